import type { Channel as AmqpChannel } from "amqplib";

/**
 * Every RabbitMQ name of the platform, and how they are declared. Declaring is idempotent: every
 * process declares the topology when it connects. RabbitMQ refuses to redeclare a queue with other
 * arguments, so each queue is declared with its final arguments; what can change with
 * configuration (the retry delays) is part of the delay queue's name.
 */
export const EXCHANGE = "notifications.direct";
export const FAILED_QUEUE = "failed.queue";

/** Work queues and the routing keys (channels) bound to each. */
export const WORK_QUEUES = {
  email: { queue: "email.queue", routingKeys: ["email"] },
  push: { queue: "push.queue", routingKeys: ["push"] },
  sms: { queue: "sms.queue", routingKeys: ["sms", "whatsapp"] },
  webhook: { queue: "webhook.queue", routingKeys: ["webhook", "slack"] },
} as const;

export type WorkQueueName = (typeof WORK_QUEUES)[keyof typeof WORK_QUEUES]["queue"];

/** The work queue a channel's messages go to. */
export function queueForRoutingKey(routingKey: string): WorkQueueName | undefined {
  for (const { queue, routingKeys } of Object.values(WORK_QUEUES)) {
    if ((routingKeys as readonly string[]).includes(routingKey)) return queue;
  }
  return undefined;
}

/** RabbitMQ message priorities; a queue's x-max-priority is fixed when it is first declared. */
export const MAX_PRIORITY = 10;
export const PRIORITY_VALUES = { low: 1, normal: 4, high: 7, critical: 10 } as const;

/** The delay queue a work queue's messages wait in before going back to it. */
export function delayQueueName(workQueue: string, delayMs: number): string {
  return `${workQueue}.retry.${delayMs}ms`;
}

/**
 * Declares the exchange, the work queues with their bindings, failed.queue, and one delay queue per
 * retry delay for each work queue (the retry policy gives the delays).
 */
export async function declareTopology(channel: AmqpChannel, retryDelaysMs: readonly number[]): Promise<void> {
  await channel.assertExchange(EXCHANGE, "direct", { durable: true });
  await channel.assertQueue(FAILED_QUEUE, { durable: true });
  for (const { queue, routingKeys } of Object.values(WORK_QUEUES)) {
    await channel.assertQueue(queue, {
      durable: true,
      maxPriority: MAX_PRIORITY,
      // A message a worker rejects without requeue lands in failed.queue instead of vanishing.
      deadLetterExchange: "",
      deadLetterRoutingKey: FAILED_QUEUE,
    });
    for (const key of routingKeys) await channel.bindQueue(queue, EXCHANGE, key);
    for (const delay of new Set(retryDelaysMs)) {
      await channel.assertQueue(delayQueueName(queue, delay), {
        durable: true,
        messageTtl: delay,
        deadLetterExchange: "",
        deadLetterRoutingKey: queue,
      });
    }
  }
}
