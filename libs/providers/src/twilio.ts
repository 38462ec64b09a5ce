import type https from "node:https";
import twilio from "twilio";
import { PermanentDeliveryError, RetryableDeliveryError, type DeliveryError } from "@herald/errors";
import type { SendReceipt } from "./types";
import type { TextMessage, TextProvider } from "./text";

export interface TwilioOptions {
  /** The breaker's and the metrics' name: "twilio", or "twilio-fallback" for a second account. */
  name?: string;
  accountSid: string;
  authToken: string;
  /** TWILIO_TIMEOUT: a call slower than this fails as twilio_timeout (retryable). */
  timeoutMs: number;
  /** Sends in flight at once (sockets of the HTTP client). */
  concurrency?: number;
  /** Every call goes through this agent (tests: one that connects to a local fake Twilio API). */
  httpsAgent?: https.Agent;
}

/**
 * Twilio error codes that say this message can never be sent (the recipient or the message is the
 * problem). Anything else with a 4xx status is permanent too, except the codes below that are
 * about our own account or configuration, and 429.
 */
const RECIPIENT_ERRORS: Record<number, string> = {
  21211: "invalid 'To' number",
  21408: "sending to this region is not enabled",
  21610: "the recipient unsubscribed (replied STOP)",
  21612: "the 'To' number cannot be reached by SMS",
  21614: "the 'To' number is not a mobile number",
  21617: "the body is longer than 1600 characters",
  21635: "the 'To' number is a landline",
  63003: "WhatsApp could not find the recipient",
  63016: "outside the WhatsApp 24-hour window: a pre-approved template is needed",
  63024: "invalid WhatsApp recipient",
};

/** Our credentials or sender are wrong: retryable, so the breaker opens and messages wait for a fix. */
const ACCOUNT_ERRORS = new Set([20003, 20404, 21212, 21606, 21659, 21660, 63007]);

/** Twilio's way of saying "later": rate limits and its own failures. */
const RETRY_ERRORS = new Set([20429, 20500, 20503, 63018]);

interface TwilioFailure {
  status?: number;
  code?: number | string;
  message?: string;
}

/**
 * How a Twilio failure is classified (the table is in docs/channels-push-sms.md):
 * - recipient or message errors (21211, 21610, 21614, 63003, ...) and any other 4xx -> permanent;
 * - 429 / 20429, 63018, any 5xx, timeouts and connection errors -> retryable;
 * - authentication and sender errors (20003, 21606, 21659, ...) -> retryable: the configuration,
 *   not the message, is wrong, so the breaker opens and the messages wait instead of being
 *   dead-lettered one by one.
 */
export function classifyTwilioError(error: unknown): DeliveryError {
  const e = (error ?? {}) as TwilioFailure;
  const message = e.message ?? String(error);
  const twilioCode = typeof e.code === "number" ? e.code : undefined;
  if (typeof e.status === "number") {
    const code = twilioCode !== undefined ? `twilio_${twilioCode}` : `twilio_http_${e.status}`;
    const text = twilioCode !== undefined && RECIPIENT_ERRORS[twilioCode] ? `${RECIPIENT_ERRORS[twilioCode]}: ${message}` : message;
    if (twilioCode !== undefined && (ACCOUNT_ERRORS.has(twilioCode) || RETRY_ERRORS.has(twilioCode))) {
      return new RetryableDeliveryError(code, text, { cause: error });
    }
    if (e.status === 429 || e.status >= 500 || e.status === 401) return new RetryableDeliveryError(code, text, { cause: error });
    return new PermanentDeliveryError(code, text, { cause: error });
  }
  if (e.code === "ECONNABORTED" || e.code === "ETIMEDOUT") return new RetryableDeliveryError("twilio_timeout", message, { cause: error });
  return new RetryableDeliveryError("twilio_connection_failed", message, { cause: error });
}

/**
 * SMS and WhatsApp through Twilio's Messages API (the official client). One client, one breaker
 * ("twilio") for both channels: they share the account, the API and its outages. TWILIO_FROM (or
 * TWILIO_WHATSAPP_FROM) may be a Messaging Service SID (MG...) instead of a number.
 * The client's own retries stay off: the worker runtime retries.
 */
export class TwilioTextProvider implements TextProvider {
  readonly name: string;
  readonly concurrency: number;
  readonly deadlineMs: number;
  private readonly client: twilio.Twilio;
  private readonly http: twilio.RequestClient;
  private readonly ownsAgent: boolean;

  constructor(options: TwilioOptions) {
    this.name = options.name ?? "twilio";
    this.concurrency = options.concurrency ?? 10;
    this.deadlineMs = options.timeoutMs;
    this.http = new twilio.RequestClient({ timeout: options.timeoutMs, keepAlive: true, maxSockets: this.concurrency, autoRetry: false });
    this.ownsAgent = !options.httpsAgent;
    if (options.httpsAgent) this.http.axios.defaults.httpsAgent = options.httpsAgent;
    this.client = twilio(options.accountSid, options.authToken, { httpClient: this.http, autoRetry: false });
    // The client loads its API modules on first use: do it now, not in the first send.
    void this.client.messages;
  }

  async send(message: TextMessage): Promise<SendReceipt> {
    const sender = /^(whatsapp:)?MG[0-9a-f]{32}$/i.test(message.from) ? { messagingServiceSid: message.from.replace(/^whatsapp:/i, "") } : { from: message.from };
    try {
      const sent = await this.client.messages.create({ to: message.to, body: message.body, ...sender });
      return { providerMessageId: sent.sid };
    } catch (error) {
      throw classifyTwilioError(error);
    }
  }

  close(): Promise<void> {
    const agent = this.http.axios.defaults.httpsAgent as https.Agent | undefined;
    if (this.ownsAgent) agent?.destroy();
    return Promise.resolve();
  }
}
