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

/**
 * Declares the exchange, the work queues with their bindings (from the channel registry),
 * failed.queue, and one delay queue per delay for each work queue (the retry policy's delays and
 * the recheck delay).
 */
export async function declareTopology(channel: AmqpChannel, workQueues: readonly WorkQueue[], delaysMs: readonly number[]): Promise<void> {
  await channel.assertExchange(EXCHANGE, "direct", { durable: true });
  await channel.assertQueue(FAILED_QUEUE, { durable: true });
  for (const { queue, routingKeys } of workQueues) {
    await channel.assertQueue(queue, {
      durable: true,
      maxPriority: MAX_PRIORITY,
      // A message a worker rejects without requeue lands in failed.queue instead of vanishing.
      deadLetterExchange: "",
      deadLetterRoutingKey: FAILED_QUEUE,
    });
    for (const key of routingKeys) await channel.bindQueue(queue, EXCHANGE, key);
    for (const delay of new Set(delaysMs)) {
      await channel.assertQueue(delayQueueName(queue, delay), {
        durable: true,
        messageTtl: delay,
        deadLetterExchange: "",
        deadLetterRoutingKey: queue,
      });
    }
  }
}
