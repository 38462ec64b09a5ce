import type https from "node:https";
import type { ChannelHandler } from "@herald/delivery";
import { providerChoice, SandboxFaults, SandboxTextProvider, TwilioTextProvider, type TextChannel, type TextProvider } from "@herald/providers";
import type { Runtime } from "@herald/runtime";
import { textHandler } from "./text-handler";

const SANDBOX_SENDER = "herald-sandbox";

/**
 * The sms and whatsapp handlers: Twilio for a channel whose credentials and sender are configured
 * (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM / TWILIO_WHATSAPP_FROM), otherwise the
 * sandbox. In production an unconfigured channel gets no handler (its messages are dead-lettered
 * as unknown_channel, to replay once it is configured); with neither configured the worker refuses
 * to start. Both channels share one Twilio client, so one breaker.
 */
export function textHandlersFor(runtime: Runtime, options: { httpsAgent?: https.Agent } = {}): { handlers: ChannelHandler[]; providers: TextProvider[] } {
  const { config, db, redis, logger } = runtime;
  const { twilio } = config;
  let real: TwilioTextProvider | undefined;
  let sandbox: SandboxTextProvider | undefined;
  const handlers: ChannelHandler[] = [];
  for (const channel of ["sms", "whatsapp"] as const satisfies TextChannel[]) {
    const from = channel === "sms" ? twilio.from : twilio.whatsappFrom;
    switch (providerChoice(config, channel)) {
      case "real":
        real ??= new TwilioTextProvider({
          accountSid: twilio.accountSid ?? "",
          authToken: twilio.authToken ?? "",
          timeoutMs: twilio.timeoutMs,
          ...(options.httpsAgent ? { httpsAgent: options.httpsAgent } : {}),
        });
        handlers.push(textHandler(channel, real, from ?? ""));
        break;
      case "sandbox":
        sandbox ??= new SandboxTextProvider({ db, faults: new SandboxFaults(redis), timeoutMs: twilio.timeoutMs });
        handlers.push(textHandler(channel, sandbox, from ?? SANDBOX_SENDER));
        break;
      case "unavailable":
        logger.warn(`${channel} is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, ${channel === "sms" ? "TWILIO_FROM" : "TWILIO_WHATSAPP_FROM"}); its messages will be dead-lettered`);
        break;
    }
  }
  if (handlers.length === 0) {
    throw new Error("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM or TWILIO_WHATSAPP_FROM are required in production (the sandbox provider is never used in production)");
  }
  return { handlers, providers: [real, sandbox].filter((p): p is TwilioTextProvider | SandboxTextProvider => p !== undefined) };
}
