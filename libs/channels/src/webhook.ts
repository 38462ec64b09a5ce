import { PermanentDeliveryError, UndeliverableError } from "@herald/errors";
import { SlackProvider, WebhookProvider, type HttpProviderOptions } from "@herald/providers";
import { defineChannel, type ChannelContext } from "./definition";

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

/** WEBHOOK_* settings and the test hooks: timeouts, the SSRF guard, connections. */
function httpOptions({ config, hooks, logger, shared }: ChannelContext): HttpProviderOptions {
  if (config.webhook.allowPrivate && config.env === "production") {
    shared("ssrf-warning", () => {
      logger.warn("WEBHOOK_ALLOW_PRIVATE is on in production: webhooks may reach internal addresses");
      return {};
    });
  }
  return {
    timeoutMs: config.webhook.timeoutMs,
    allowPrivate: config.webhook.allowPrivate,
    concurrency: config.webhook.concurrency,
    ...(hooks.resolver ? { resolver: hooks.resolver } : {}),
    ...(hooks.ca ? { ca: hooks.ca } : {}),
  };
}

/**
 * A webhook "provider" is every customer's endpoint at once, so one broken endpoint must not stop
 * the others: its breakers open after WEBHOOK_BREAKER_FAILURE_THRESHOLD consecutive failures
 * (default 20), which consecutive failures across many destinations reach only when our side
 * (network, DNS, egress) is what is broken.
 */
const breakerFailureThreshold = (config: ChannelContext["config"]) => config.webhook.breakerFailureThreshold;

/** Webhook: the rendered JSON, signed with the user's secret (read at each send), to the user's webhook_url. */
export const webhook = defineChannel<WebhookProvider>({
  name: "webhook",
  queue: "webhook.queue",
  preference: "webhook_enabled",
  address: (user) => user.webhook_url,
  rate: () => 0,
  breakerFailureThreshold,
  providers: (context) => [context.shared("webhook", () => new WebhookProvider(httpOptions(context)))],
  async send(provider, { delivery, user, rendered }, { db }) {
    if (!user.webhook_url) throw new UndeliverableError("no_webhook_url", "the user has no webhook_url");
    const body = jsonBody("webhook", rendered.text);
    const secret = (await db.prisma.user.findUnique({ where: { id: user.id }, select: { webhookSecret: true } }))?.webhookSecret ?? null;
    if (!secret) throw new PermanentDeliveryError("webhook_secret_missing", "the user has no webhook signing secret; rotate it, then replay");
    return provider.send({ url: user.webhook_url, body, secret, deliveryId: delivery.id, requestId: delivery.requestId, correlationId: delivery.correlationId });
  },
});

/** Slack: the incoming-webhook JSON to the user's slack_webhook_url. */
export const slack = defineChannel<SlackProvider>({
  name: "slack",
  queue: "webhook.queue",
  preference: "slack_enabled",
  address: (user) => user.slack_webhook_url,
  rate: () => 0,
  breakerFailureThreshold,
  providers: (context) => [context.shared("slack", () => new SlackProvider(httpOptions(context)))],
  async send(provider, { user, rendered }) {
    const url = user.slack_webhook_url;
    if (!url) throw new UndeliverableError("no_slack_webhook_url", "the user has no slack_webhook_url");
    return provider.send({ url, body: jsonBody("slack", rendered.text) });
  },
});
