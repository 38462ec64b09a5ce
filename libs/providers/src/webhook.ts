import { createHmac } from "node:crypto";
import { standardWebhookHeaders } from "./standard-webhooks";
import { answerError, HttpProvider, type HttpProviderOptions } from "./webhook-http";

/** The headers of every webhook POST. */
export const WEBHOOK_HEADERS = {
  signature: "X-Signature",
  timestamp: "X-Herald-Timestamp",
  deliveryId: "X-Herald-Delivery-Id",
  requestId: "X-Herald-Request-Id",
  correlationId: "X-Correlation-ID",
} as const;

/** How old a signed timestamp a receiver should accept (we document 5 minutes). */
export const WEBHOOK_REPLAY_WINDOW_SECONDS = 300;

/** `sha256=` and the hex HMAC-SHA256, keyed with the user's secret, of "<timestamp>.<raw body>". */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export interface WebhookMessage {
  url: string;
  /** The exact bytes to POST (JSON). */
  body: string;
  /** The user's signing secret (X-Signature, and the first Standard Webhooks signature). */
  secret: string;
  /** A rotated-out secret still valid: a second `webhook-signature` entry. */
  previousSecret?: string;
  deliveryId: string;
  requestId: string;
  correlationId: string;
}

/** What an HTTP provider answers for one send: webhooks have no provider message id. */
export interface HttpReceipt {
  providerMessageId: string | null;
  status: number;
}

/** The Standard Webhooks `webhook-id` of a delivery: the same on every retry and DLQ replay. */
export function webhookMessageId(deliveryId: string): string {
  return `msg_${deliveryId}`;
}

/**
 * Customer webhooks: a signed JSON POST to the user's URL. Each attempt is signed afresh with the
 * current time, so a receiver can refuse anything older than its replay window; the delivery id
 * (and the `webhook-id` made from it) stays the same across retries and replays, so a receiver
 * can drop a repeat. Two signatures: Standard Webhooks (`webhook-signature`, one per valid
 * secret) and Herald's original `X-Signature` (the current secret), for receivers written to it.
 */
export class WebhookProvider extends HttpProvider {
  constructor(options: HttpProviderOptions) {
    super("webhook", options);
  }

  async send(message: WebhookMessage): Promise<HttpReceipt> {
    const timestamp = Math.floor(Date.now() / 1000);
    const secrets = message.previousSecret ? [message.secret, message.previousSecret] : [message.secret];
    const answer = await this.poster.post(message.url, message.body, {
      ...standardWebhookHeaders(secrets, webhookMessageId(message.deliveryId), timestamp, message.body),
      [WEBHOOK_HEADERS.timestamp]: String(timestamp),
      [WEBHOOK_HEADERS.signature]: signWebhook(message.secret, timestamp, message.body),
      [WEBHOOK_HEADERS.deliveryId]: message.deliveryId,
      [WEBHOOK_HEADERS.requestId]: message.requestId,
      [WEBHOOK_HEADERS.correlationId]: message.correlationId,
    });
    const error = answerError(this.name, answer);
    if (error) throw error;
    return { providerMessageId: null, status: answer.status };
  }
}
