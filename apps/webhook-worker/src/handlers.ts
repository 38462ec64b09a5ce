import { providerParts, type ChannelHandler } from "@herald/delivery";
import { PermanentDeliveryError, UndeliverableError } from "@herald/errors";
import type { SlackProvider, WebhookProvider } from "@herald/providers";

/**
 * The user's signing secrets (read at each send, so a rotation applies at once): the current one,
 * and the one it replaced while that is still valid.
 */
export type SecretOf = (userId: string) => Promise<{ current: string | null; previous: string | null }>;

/**
 * The JSON document to POST: the rendered template as it is (webhook and Slack templates are JSON
 * documents whose {{variables}} were JSON-escaped when rendered, so the signed bytes are exactly
 * the rendered text). A body that still is not valid JSON (a {{{raw}}} value broke it) fails the
 * delivery permanently; a Slack body must be a JSON object.
 */
export function jsonBody(prefix: "webhook" | "slack", text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PermanentDeliveryError(`${prefix}_invalid_json`, `the rendered template is not valid JSON: ${(error as Error).message}`);
  }
  if (prefix === "slack" && (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))) {
    throw new PermanentDeliveryError("slack_invalid_json", "a Slack message must be a JSON object with text or blocks");
  }
  return text;
}

/** Webhook: the rendered JSON, signed with the user's secret, to the user's webhook_url. */
export function webhookHandler(provider: WebhookProvider, secretOf: SecretOf): ChannelHandler {
  return {
    channel: "webhook",
    ...providerParts(provider),
    async send(context) {
      const { delivery, user } = context;
      if (!user.webhook_url) throw new UndeliverableError("no_webhook_url", "the user has no webhook_url");
      const body = jsonBody("webhook", context.rendered.text);
      const { current: secret, previous } = await secretOf(user.id);
      if (!secret) throw new PermanentDeliveryError("webhook_secret_missing", "the user has no webhook signing secret; rotate it, then replay");
      return provider.send({
        url: user.webhook_url,
        body,
        secret,
        ...(previous ? { previousSecret: previous } : {}),
        deliveryId: delivery.id,
        requestId: delivery.requestId,
        correlationId: delivery.correlationId,
      });
    },
  };
}

/** Slack: the incoming-webhook JSON to the user's slack_webhook_url. */
export function slackHandler(provider: SlackProvider): ChannelHandler {
  return {
    channel: "slack",
    ...providerParts(provider),
    async send(context) {
      const url = context.user.slack_webhook_url;
      if (!url) throw new UndeliverableError("no_slack_webhook_url", "the user has no slack_webhook_url");
      return provider.send({ url, body: jsonBody("slack", context.rendered.text) });
    },
  };
}
