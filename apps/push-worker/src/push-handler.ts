import { providerParts, type ChannelHandler } from "@herald/delivery";
import { UndeliverableError } from "@herald/errors";
import { settlePush, type PushProvider } from "@herald/providers";

/** Where tokens the provider reported invalid go (UserService.removeDevices). */
export interface InvalidTokenSink {
  removeDevices(userId: string, tokens: readonly string[]): Promise<number>;
}

/**
 * Push: the rendered title, body, data and image to every device of the user, through the push
 * provider. Tokens it reports invalid are removed from the user; the delivery's fate follows
 * from the devices' results (settlePush), which are kept as its outcome.
 */
export function pushHandler(provider: PushProvider, tokens: InvalidTokenSink): ChannelHandler {
  return {
    channel: "push",
    ...providerParts(provider),
    async send({ delivery, user, rendered, logger }) {
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
        // The provider has answered: a failure to remove must not turn into a resend.
        const removed = await tokens.removeDevices(user.id, invalid).catch((error: unknown) => {
          logger.warn("could not remove invalid push tokens; they are removed on their next failure", { error: String(error) });
          return 0;
        });
        logger.info("removed invalid push tokens", { removed, reported: invalid.length });
      }
      return settlePush(receipt);
    },
  };
}
