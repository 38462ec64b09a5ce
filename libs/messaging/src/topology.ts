import type { Channel as AmqpChannel } from "amqplib";

/**
 * Every RabbitMQ name of the platform, and how they are declared. Declaring is idempotent: every
 * process declares the topology when it connects. RabbitMQ refuses to redeclare a queue with other
 * arguments, so each queue is declared with its final arguments; what can change with
 * configuration (the retry delays) is part of the delay queue's name.
 */
export const EXCHANGE = "notifications.direct";
export const FAILED_QUEUE = "failed.queue";

/** A work queue and the routing keys (channel names) bound to it; the channel registry lists them. */
export interface WorkQueue {
  queue: string;
  routingKeys: readonly string[];
}

/** RabbitMQ message priorities; a queue's x-max-priority is fixed when it is first declared. */
export const MAX_PRIORITY = 10;
export const PRIORITY_VALUES = { low: 1, normal: 4, high: 7, critical: 10 } as const;

/** The delay queue a work queue's messages wait in before going back to it. */
export function delayQueueName(workQueue: string, delayMs: number): string {
  return `${workQueue}.retry.${delayMs}ms`;
}

/** classic: one queue per channel group with x-max-priority; quorum: replicated queues (RABBITMQ_QUEUE_TYPE). */
export type QueueType = "classic" | "quorum";

/** The routing key of a message: its channel, with `.priority` for high and critical ones. */
export function routingKeyFor(channel: string, priority: keyof typeof PRIORITY_VALUES): string {
  return priority === "high" || priority === "critical" ? `${channel}${PRIORITY_SUFFIX}` : channel;
}

const PRIORITY_SUFFIX = ".priority";

/** The queue of a work queue's high and critical messages when queues are quorum queues. */
export function priorityQueueName(workQueue: string): string {
  return `${workQueue}${PRIORITY_SUFFIX}`;
}

/**
 * The queues a worker of `workQueue` consumes, most urgent first. Quorum queues (in this
 * RabbitMQ) have no x-max-priority, so high and critical messages get a queue of their own that
 * they do not wait behind the others in; classic queues order by priority themselves.
 */
export function consumedQueues(workQueue: string, type: QueueType): string[] {
  return type === "quorum" ? [priorityQueueName(workQueue), workQueue] : [workQueue];
}

/**
 * Declares the exchange, the work queues with their bindings (from the channel registry),
 * failed.queue, and one delay queue per delay for each work queue (the retry policy's delays and
 * the recheck delay). Every routing key is bound twice, as `<channel>` and `<channel>.priority`:
 * a classic queue takes both (and orders them by the message priority), while with quorum queues
 * `<channel>.priority` goes to `<queue>.priority`. A queue's type is fixed when it is first
 * declared: moving an existing broker from classic to quorum means new queues (see the README).
 */
export async function declareTopology(
  channel: AmqpChannel,
  workQueues: readonly WorkQueue[],
  delaysMs: readonly number[],
  type: QueueType = "classic",
): Promise<void> {
  const quorum = type === "quorum";
  // Quorum queues dead-letter at-least-once only with reject-publish overflow (RabbitMQ 3.10+).
  const kind = quorum ? { arguments: { "x-queue-type": "quorum", "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish" } } : {};
  await channel.assertExchange(EXCHANGE, "direct", { durable: true });
  await channel.assertQueue(FAILED_QUEUE, { durable: true, ...(quorum ? { arguments: { "x-queue-type": "quorum" } } : {}) });
  for (const { queue, routingKeys } of workQueues) {
    const targets = quorum ? [{ name: queue, suffix: "" }, { name: priorityQueueName(queue), suffix: PRIORITY_SUFFIX }] : [{ name: queue, suffix: "" }];
    for (const target of targets) {
      await channel.assertQueue(target.name, {
        durable: true,
        ...(quorum ? kind : { maxPriority: MAX_PRIORITY }),
        // A message a worker rejects without requeue lands in failed.queue instead of vanishing.
        deadLetterExchange: "",
        deadLetterRoutingKey: FAILED_QUEUE,
      });
      for (const key of routingKeys) {
        await channel.bindQueue(target.name, EXCHANGE, `${key}${target.suffix}`);
        if (!quorum) await channel.bindQueue(target.name, EXCHANGE, `${key}${PRIORITY_SUFFIX}`);
      }
      for (const delay of new Set(delaysMs)) {
        await channel.assertQueue(delayQueueName(target.name, delay), {
          durable: true,
          ...kind,
          messageTtl: delay,
          deadLetterExchange: "",
          deadLetterRoutingKey: target.name,
        });
      }
    }
  }
}
