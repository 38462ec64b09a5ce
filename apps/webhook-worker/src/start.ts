import { startDeliveryWorker, type DeliveryWorker } from "@herald/delivery";
import { WORK_QUEUES } from "@herald/messaging";
import { SlackProvider, WebhookProvider, type HttpProviderOptions } from "@herald/providers";
import type { Runtime } from "@herald/runtime";
import { slackHandler, webhookHandler, type SecretOf } from "./handlers";

/**
 * The webhook worker on an open runtime: webhook.queue with the webhook and Slack handlers.
 *
 * One breaker per provider ("webhook", "slack"), as the runtime keys them. A webhook "provider"
 * is every customer's endpoint at once, so one broken endpoint must not stop the others: this
 * worker's breakers open after WEBHOOK_BREAKER_FAILURE_THRESHOLD consecutive failures (default
 * 20) rather than CIRCUIT_BREAKER_FAILURE_THRESHOLD, which consecutive failures across many
 * destinations reach only when our side (network, DNS, egress) is what is broken.
 */
export async function startWebhookWorker(
  runtime: Runtime,
  /** Test hooks: a resolver, the CAs to trust. */
  options: Pick<HttpProviderOptions, "resolver" | "ca"> = {},
): Promise<DeliveryWorker> {
  const { config, db, releasers } = runtime;
  const http = { timeoutMs: config.webhook.timeoutMs, allowPrivate: config.webhook.allowPrivate, concurrency: config.webhook.concurrency, ...options };
  const webhook = new WebhookProvider(http);
  const slack = new SlackProvider(http);
  releasers.add("webhook providers", async () => {
    await webhook.close();
    await slack.close();
  });
  const secretOf: SecretOf = async (userId) => {
    const { rows } = await db.pool.query<{ current: string | null; previous: string | null }>(
      `SELECT webhook_secret AS current,
              CASE WHEN webhook_secret_previous_expires_at > now() THEN webhook_secret_previous END AS previous
         FROM users WHERE id = $1`,
      [userId],
    );
    return rows[0] ?? { current: null, previous: null };
  };
  return startDeliveryWorker(runtime, {
    queue: WORK_QUEUES.webhook.queue,
    handlers: [webhookHandler(webhook, secretOf), slackHandler(slack)],
    breakerFailureThreshold: config.webhook.breakerFailureThreshold,
  });
}
