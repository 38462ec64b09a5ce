import { UndeliverableError } from "@herald/errors";
import { FcmPushProvider, loadServiceAccount, providerChoice, SandboxFaults, SandboxPushProvider, settlePush, type PushProvider } from "@herald/providers";
import { UserDirectory, UserService } from "@herald/users";
import { defineChannel, type ChannelContext } from "./definition";
import { withSandboxFallback } from "./fallback";

function sandbox({ db, redis, config, shared }: ChannelContext): SandboxPushProvider {
  return shared("sandbox-push", () => new SandboxPushProvider({ db, faults: new SandboxFaults(redis), timeoutMs: config.firebase.timeoutMs }));
}

/**
 * Push through FCM (FIREBASE_SERVICE_ACCOUNT) or, without one outside production, the sandbox:
 * every device of the user, each device's result kept as the delivery's outcome, tokens the
 * provider reports invalid removed from the user. The delivery id is every message's collapse
 * identifier, so a push sent again replaces the first on the device.
 */
export const push = defineChannel<PushProvider>({
  name: "push",
  queue: "push.queue",
  preference: "push_enabled",
  address: (user) => (user.devices.length > 0 ? user.devices.map((d) => d.token).join(",") : null),
  rate: (config) => config.outboundRates.push,
  providers(context) {
    const { config, shared, hooks } = context;
    switch (providerChoice(config, "push")) {
      case "real": {
        const fcm = shared("fcm", () => new FcmPushProvider({ serviceAccount: loadServiceAccount(config.firebase.serviceAccount ?? ""), timeoutMs: config.firebase.timeoutMs, ...(hooks.httpsAgent ? { httpsAgent: hooks.httpsAgent } : {}) }));
        return withSandboxFallback<PushProvider>(config, [fcm], () => sandbox(context));
      }
      case "sandbox":
        return [sandbox(context)];
      case "unavailable":
        return [];
    }
  },
  async send(provider, { delivery, user, rendered, logger }, { db, redis, logger: log, shared }) {
    if (user.devices.length === 0) throw new UndeliverableError("no_devices", "the user has no registered push devices");
    const receipt = await provider.send({
      devices: user.devices.map((d) => ({ token: d.token, platform: d.platform })),
      ...(rendered.title !== undefined ? { title: rendered.title } : {}),
      body: rendered.text,
      ...(rendered.data ? { data: rendered.data } : {}),
      ...(rendered.image ? { image: rendered.image } : {}),
      urgent: delivery.priority === "high" || delivery.priority === "critical",
      deliveryId: delivery.id,
    });
    const invalid = receipt.devices.filter((d) => d.status === "invalid_token").map((d) => d.token);
    if (invalid.length > 0) {
      const users = shared("users", () => new UserService(db, new UserDirectory(db, redis, log)));
      // The provider has answered: a failure to remove must not turn into a resend.
      const removed = await users.removeDevices(user.id, invalid).catch((error: unknown) => {
        logger.warn("could not remove invalid push tokens; they are removed on their next failure", { error: String(error) });
        return 0;
      });
      logger.info("removed invalid push tokens", { removed, reported: invalid.length });
    }
    return settlePush(receipt);
  },
});
