import { PermanentDeliveryError, RetryableDeliveryError } from "@herald/errors";
import { answerError, HttpProvider, type HttpProviderOptions } from "./webhook-http";
import type { HttpReceipt } from "./webhook";

export interface SlackMessage {
  /** The user's Slack incoming-webhook URL (https://hooks.slack.com/services/...). */
  url: string;
  /** The incoming-webhook JSON: {"text": ...} and/or {"blocks": [...]}. */
  body: string;
}

/**
 * Slack incoming webhooks: the message JSON POSTed to the webhook URL, unsigned (the URL is the
 * secret). Slack answers 200 "ok"; an error as a plain-text code with its status: 400
 * invalid_payload, 403 action_prohibited, 404 no_service / channel_not_found, 410
 * channel_is_archived (permanent), 429 with Retry-After and 5xx (retried).
 */
export class SlackProvider extends HttpProvider {
  constructor(options: HttpProviderOptions) {
    super("slack", options);
  }

  async send(message: SlackMessage): Promise<HttpReceipt> {
    const answer = await this.poster.post(message.url, message.body, {});
    const error = answerError(this.name, answer);
    if (!error) return { providerMessageId: null, status: answer.status };
    const said = answer.body.trim();
    if (answer.status === 429) {
      const after = answer.headers["retry-after"];
      throw new RetryableDeliveryError("slack_rate_limited", `Slack rate-limited this webhook${after ? ` (Retry-After: ${String(after)} s)` : ""}`);
    }
    if (answer.status >= 400 && /^[a-z_]{2,60}$/.test(said)) {
      const Kind = error.retryable ? RetryableDeliveryError : PermanentDeliveryError;
      throw new Kind(`slack_${said}`, `Slack answered HTTP ${answer.status}: ${said}`);
    }
    throw error;
  }
}
