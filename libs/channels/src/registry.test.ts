import { loadConfig } from "@herald/config";
import type { Redis } from "@herald/cache";
import type { Database } from "@herald/db";
import { createLogger } from "@herald/logger";
import type { UserProfile } from "@herald/users";
import { channelContext } from "./context";
import { channelDefinition, channelEnabled, channelReachable, CHANNEL_DEFINITIONS, workQueues } from "./registry";

/** Providers are only made here, never called: no connection is opened. */
function providersOf(name: Parameters<typeof channelDefinition>[0], env: Record<string, string>) {
  const context = channelContext({ config: loadConfig(env), db: {} as Database, redis: {} as Redis, logger: createLogger({ service: "test", level: "error" }) });
  const providers = channelDefinition(name).providers(context);
  return { names: providers.map((p) => p.name), providers, context };
}

const twilio = { NODE_ENV: "production", API_KEYS: "k", TWILIO_ACCOUNT_SID: `AC${"2".repeat(32)}`, TWILIO_AUTH_TOKEN: "t" };

describe("the channel registry", () => {
  it("gives every channel one definition, and the topology its queues from them", () => {
    expect(CHANNEL_DEFINITIONS.map((d) => d.name)).toEqual(["email", "push", "sms", "whatsapp", "webhook", "slack"]);
    expect(workQueues()).toEqual([
      { queue: "email.queue", routingKeys: ["email"] },
      { queue: "push.queue", routingKeys: ["push"] },
      { queue: "sms.queue", routingKeys: ["sms", "whatsapp"] },
      { queue: "webhook.queue", routingKeys: ["webhook", "slack"] },
    ]);
  });

  it("decides preferences and reachability from the definitions", () => {
    const user = {
      email: "a@example.com",
      phone: null,
      devices: [],
      webhook_url: null,
      slack_webhook_url: "https://hooks.slack.com/x",
      preferences: { email_enabled: false, push_enabled: true, sms_enabled: true, whatsapp_enabled: true, webhook_enabled: true, slack_enabled: true },
    } as unknown as UserProfile;
    expect(channelEnabled(user, "email")).toBe(false);
    expect(channelEnabled(user, "sms")).toBe(true);
    expect(["email", "push", "sms", "whatsapp", "webhook", "slack"].filter((c) => channelReachable(user, c as never))).toEqual(["email", "slack"]);
  });

  it("makes email's providers from SMTP_URLS in order, the dev inbox without any, and the sandbox last only on request outside production", () => {
    expect(providersOf("email", {}).names).toEqual(["dev-inbox"]);
    expect(providersOf("email", { SMTP_HOST: "mx.example.com", SMTP_PORT: "25" }).names).toEqual(["smtp:mx.example.com:25"]);
    expect(providersOf("email", { SMTP_URLS: "smtp://relay-a:2525,smtps://u:p@relay-b" }).names).toEqual(["smtp:relay-a:2525", "smtp:relay-b:465"]);
    expect(providersOf("email", { SMTP_URLS: "smtp://relay-a:2525", SANDBOX_FALLBACK: "true" }).names).toEqual(["smtp:relay-a:2525", "dev-inbox"]);
    expect(providersOf("email", { ...twilio, SMTP_URLS: "smtp://relay-a:2525", SANDBOX_FALLBACK: "true" }).names).toEqual(["smtp:relay-a:2525"]);
  });

  it("gives sms and whatsapp one Twilio client per account, a fallback account after the first, and nothing in production without credentials", () => {
    const both = { ...twilio, TWILIO_FROM: "+15005550006", TWILIO_WHATSAPP_FROM: "+14155238886" };
    const sms = providersOf("sms", both);
    expect(sms.names).toEqual(["twilio"]);
    // The same context makes whatsapp's: the same client, so the same breaker.
    const whatsapp = channelDefinition("whatsapp").providers(sms.context) as unknown as { provider: unknown }[];
    expect(whatsapp[0]!.provider).toBe((sms.providers[0] as unknown as { provider: unknown }).provider);
    expect(providersOf("sms", { ...both, TWILIO_FALLBACK_ACCOUNT_SID: `AC${"3".repeat(32)}`, TWILIO_FALLBACK_AUTH_TOKEN: "u" }).names).toEqual(["twilio", "twilio-fallback"]);
    // Production without a WhatsApp sender: no whatsapp provider (its messages are dead-lettered).
    expect(providersOf("whatsapp", { ...twilio, TWILIO_FROM: "+15005550006" }).names).toEqual([]);
    expect(providersOf("sms", { NODE_ENV: "production", API_KEYS: "k" }).names).toEqual([]);
    expect(providersOf("sms", {}).names).toEqual(["sandbox-text"]);
  });

  it("gives push FCM with a service account, the sandbox without one, and nothing in production without one", () => {
    expect(providersOf("push", {}).names).toEqual(["sandbox-push"]);
    expect(providersOf("push", { NODE_ENV: "production", API_KEYS: "k" }).names).toEqual([]);
  });
});
