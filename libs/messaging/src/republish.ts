import type { ConsumeMessage } from "amqplib";
import { HEADERS, headerString as headerOf } from "./message";
import type { ConfirmPublisher } from "./publisher";
import { delayQueueName, FAILED_QUEUE } from "./topology";

/** Why a message goes on to a delay queue or to failed.queue: written into its headers. */
export interface Failure {
  /** The attempt count the next reader sees in x-attempt. */
  attempt: number;
  errorCode: string;
  error: string;
}

/**
 * Every message a worker sends on from one it consumed, and every header it carries: to a delay
 * queue (a retry, or "look again later"), whose TTL dead-letters it back to the work queue, or to
 * failed.queue. Each is published with a broker confirm before the consumed message is acked, so
 * a crash between the two leaves a copy, never nothing.
 */
export class Republisher {
  constructor(
    private readonly publisher: ConfirmPublisher,
    /** The work queue the consumed messages came from (the delay queues return to it). */
    private readonly queue: string,
  ) {}

  /** The same message, back in the work queue after `delayMs`; with `failure`, as a retry. */
  toDelay(message: ConsumeMessage, delayMs: number, failure?: Failure): Promise<void> {
    return this.publisher.publish({
      exchange: "",
      routingKey: delayQueueName(this.queue, delayMs),
      body: bodyOf(message),
      priority: priorityOf(message),
      headers: failure ? { ...message.properties.headers, ...failureHeaders(failure) } : (message.properties.headers ?? {}),
    });
  }

  /**
   * Straight back to the work queue (it waits there while the consumer is held): an attempt that
   * failed because the provider is down, counted in x-provider-down-attempts instead of spending
   * a retry.
   */
  toQueue(message: ConsumeMessage, failure: Failure): Promise<void> {
    const downAttempts = Number(headerOf(message, HEADERS.providerDownAttempts) ?? 0) + 1;
    return this.publisher.publish({
      exchange: "",
      routingKey: this.queue,
      body: bodyOf(message),
      priority: priorityOf(message),
      headers: { ...message.properties.headers, ...failureHeaders(failure), [HEADERS.providerDownAttempts]: downAttempts },
    });
  }

  /** To failed.queue, with `payload` as its body (the original message, or what could be read of it). */
  toFailed(message: ConsumeMessage, payload: unknown, failure: Failure): Promise<void> {
    return this.publisher.publish({
      exchange: "",
      routingKey: FAILED_QUEUE,
      body: payload,
      priority: priorityOf(message),
      headers: {
        ...message.properties.headers,
        ...failureHeaders(failure),
        [HEADERS.originalQueue]: this.queue,
        [HEADERS.deadLetteredAt]: new Date().toISOString(),
      },
    });
  }
}

function failureHeaders({ attempt, errorCode, error }: Failure): Record<string, unknown> {
  return { [HEADERS.attempt]: attempt, [HEADERS.lastError]: error.slice(0, 1000), [HEADERS.errorCode]: errorCode };
}

/**
 * The consumed body as JSON, or what can be kept of it when it is not JSON (a poison message):
 * `{ raw }` for text, `{ base64 }` for bytes that are not UTF-8 or hold characters PostgreSQL's
 * jsonb refuses (NUL), so that the dead letter can always be stored.
 */
export function bodyOf(message: ConsumeMessage): unknown {
  const raw = message.content.toString("utf8");
  if (raw.includes("\uFFFD") || raw.includes("\u0000") || /\\u0000/i.test(raw)) return { base64: message.content.toString("base64") };
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return { raw };
  }
}

function priorityOf(message: ConsumeMessage): number | undefined {
  return message.properties.priority as number | undefined;
}
