import { startDeliveryWorker, type DeliveryWorker } from "@herald/delivery";
import { WORK_QUEUES } from "@herald/messaging";
import { SlackProvider, WebhookProvider, type HttpProviderOptions } from "@herald/providers";
import type { Runtime } from "@herald/runtime";
import { slackHandler, webhookHandler } from "./handlers";

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
  /** Test hooks: a resolver, the CAs to trust, what opens connections. */
  options: Pick<HttpProviderOptions, "resolver" | "ca" | "connect"> = {},
): Promise<DeliveryWorker> {
  const { config, db, releasers } = runtime;
  const http = { timeoutMs: config.webhook.timeoutMs, allowPrivate: config.webhook.allowPrivate, concurrency: config.webhook.concurrency, ...options };
  const webhook = new WebhookProvider(http);
  const slack = new SlackProvider(http);
  releasers.add("webhook providers", async () => {
    await webhook.close();
    await slack.close();
  });
  const secretOf = async (userId: string) =>
    (await db.prisma.user.findUnique({ where: { id: userId }, select: { webhookSecret: true } }))?.webhookSecret ?? null;
  return startDeliveryWorker(runtime, {
    queue: WORK_QUEUES.webhook.queue,
    handlers: [webhookHandler(webhook, secretOf), slackHandler(slack)],
    breakerFailureThreshold: config.webhook.breakerFailureThreshold,
  });
}
