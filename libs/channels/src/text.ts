import { UndeliverableError } from "@herald/errors";
import { providerChoice, SandboxFaults, SandboxTextProvider, textAddress, TwilioTextProvider, type TextChannel, type TextProvider } from "@herald/providers";
import { defineChannel, type ChannelContext, type ChannelDefinition } from "./definition";
import { withSandboxFallback } from "./fallback";

const SANDBOX_SENDER = "herald-sandbox";

/** A text provider with the sender it sends from on one channel (an account's number or service). */
export interface TextRoute {
  readonly name: string;
  readonly concurrency: number;
  readonly deadlineMs: number;
  readonly provider: TextProvider;
  readonly from: string;
  close(): Promise<void>;
}

function route(provider: TextProvider, from: string): TextRoute {
  return { name: provider.name, concurrency: provider.concurrency, deadlineMs: provider.deadlineMs, provider, from, close: () => provider.close() };
}

/**
 * The Twilio accounts of a text channel, in order: TWILIO_* and then TWILIO_FALLBACK_*, each when
 * it has a sender for the channel; without either (outside production) the sandbox. Both channels
 * use one client per account, so one breaker per account.
 */
function routes(channel: TextChannel, context: ChannelContext): TextRoute[] {
  const { config, db, redis, shared, hooks } = context;
  const { twilio } = config;
  const agent = hooks.httpsAgent ? { httpsAgent: hooks.httpsAgent } : {};
  const sandbox = () => route(shared("sandbox-text", () => new SandboxTextProvider({ db, faults: new SandboxFaults(redis), timeoutMs: twilio.timeoutMs })), SANDBOX_SENDER);
  switch (providerChoice(config, channel)) {
    case "real": {
      const primary = shared("twilio", () => new TwilioTextProvider({ accountSid: twilio.accountSid ?? "", authToken: twilio.authToken ?? "", timeoutMs: twilio.timeoutMs, ...agent }));
      const real = [route(primary, (channel === "sms" ? twilio.from : twilio.whatsappFrom) ?? "")];
      const fallback = twilio.fallback;
      const fallbackFrom = channel === "sms" ? fallback?.from : fallback?.whatsappFrom;
      if (fallback && fallbackFrom) {
        const second = shared("twilio-fallback", () => new TwilioTextProvider({ name: "twilio-fallback", accountSid: fallback.accountSid, authToken: fallback.authToken, timeoutMs: twilio.timeoutMs, ...agent }));
        real.push(route(second, fallbackFrom));
      }
      return withSandboxFallback(config, real, sandbox);
    }
    case "sandbox":
      return [sandbox()];
    case "unavailable":
      return [];
  }
}

function textChannel(channel: TextChannel, preference: "sms_enabled" | "whatsapp_enabled"): ChannelDefinition {
  return defineChannel<TextRoute>({
    name: channel,
    queue: "sms.queue",
    preference,
    address: (user) => user.phone,
    rate: (config) => config.outboundRates[channel],
    providers: (context) => routes(channel, context),
    async send({ provider, from }, { delivery, user, rendered }) {
      if (!user.phone) throw new UndeliverableError("no_phone_number", `the user has no phone number for ${channel}`);
      const receipt = await provider.send({ channel, to: textAddress(channel, user.phone), from: textAddress(channel, from), body: rendered.text, deliveryId: delivery.id });
      return { providerMessageId: receipt.providerMessageId };
    },
  });
}

/** SMS through Twilio (or the sandbox), from TWILIO_FROM (a number or a Messaging Service SID). */
export const sms = textChannel("sms", "sms_enabled");

/** WhatsApp through Twilio (or the sandbox), from TWILIO_WHATSAPP_FROM. */
export const whatsapp = textChannel("whatsapp", "whatsapp_enabled");
