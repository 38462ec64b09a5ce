import type { Config } from "@herald/config";
import { newId, type Database } from "@herald/db";
import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import type { PushMessage, PushProvider, PushReceipt } from "./push";
import type { SandboxChannel, SandboxFaults } from "./sandbox-faults";
import type { TextMessage, TextProvider } from "./text";
import type { SendReceipt } from "./types";

/**
 * Which provider a channel gets: the real one when its credentials are configured; otherwise the
 * sandbox outside production, and none in production (a worker refuses to start rather than
 * pretend to send).
 */
export function providerChoice(config: Config, channel: SandboxChannel): "real" | "sandbox" | "unavailable" {
  const { twilio } = config;
  const configured =
    channel === "push"
      ? config.firebase.serviceAccount !== undefined
      : Boolean(twilio.accountSid && twilio.authToken && (channel === "sms" ? twilio.from : twilio.whatsappFrom));
  if (configured) return "real";
  return config.env === "production" ? "unavailable" : "sandbox";
}

export interface SandboxOptions {
  db: Database;
  faults: SandboxFaults;
  /** How long a "timeout" fault hangs before failing: the real provider's timeout. */
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the channel's next fault (POST /sandbox/faults) and acts it out. No Redis: no faults. */
async function actOutFault({ faults, timeoutMs }: SandboxOptions, channel: SandboxChannel): Promise<void> {
  const mode = await faults.take(channel).catch(() => undefined);
  switch (mode) {
    case "fail":
      throw new RetryableDeliveryError("sandbox_failure", `sandbox fault: the ${channel} provider failed (temporary)`);
    case "permanent":
      throw new PermanentDeliveryError("sandbox_rejected", `sandbox fault: the ${channel} provider rejected the message`);
    case "timeout":
      await sleep(timeoutMs);
      throw new RetryableDeliveryError("sandbox_timeout", `sandbox fault: no answer from the ${channel} provider within ${timeoutMs} ms`);
    case undefined:
      return;
  }
}

/**
 * The push provider of `npm start` without FIREBASE_SERVICE_ACCOUNT: every device "receives" the
 * message, which is recorded for GET /sandbox/messages?channel=push; POST /sandbox/faults makes
 * the next sends fail.
 */
export class SandboxPushProvider implements PushProvider {
  readonly name = "sandbox-push";
  readonly concurrency = 10;
  readonly deadlineMs: number;

  constructor(private readonly options: SandboxOptions) {
    this.deadlineMs = options.timeoutMs;
  }

  async send(message: PushMessage): Promise<PushReceipt> {
    await actOutFault(this.options, "push");
    const devices = message.devices.map((d) => ({ token: d.token, platform: d.platform, status: "sent" as const, message_id: `sandbox-${newId()}` }));
    await this.options.db.prisma.sandboxMessage.create({
      data: {
        id: newId(),
        channel: "push",
        to: message.devices.map((d) => d.token).join(", "),
        subject: message.title ?? null,
        body: message.body,
        payload: { data: message.data ?? {}, image: message.image ?? null, urgent: message.urgent, devices },
        deliveryId: message.deliveryId,
      },
    });
    return { devices };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The SMS and WhatsApp provider of `npm start` without Twilio credentials: records every message
 * for GET /sandbox/messages?channel=sms|whatsapp and obeys POST /sandbox/faults.
 */
export class SandboxTextProvider implements TextProvider {
  readonly name = "sandbox-text";
  readonly concurrency = 10;
  readonly deadlineMs: number;

  constructor(private readonly options: SandboxOptions) {
    this.deadlineMs = options.timeoutMs;
  }

  async send(message: TextMessage): Promise<SendReceipt> {
    await actOutFault(this.options, message.channel);
    const id = newId();
    await this.options.db.prisma.sandboxMessage.create({
      data: { id, channel: message.channel, to: message.to, body: message.body, payload: { from: message.from }, deliveryId: message.deliveryId },
    });
    return { providerMessageId: `sandbox-${id}` };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
