import { Cached } from "./cached";

/** One queue as the broker's management API reports it. */
export interface QueueStat {
  queue: string;
  ready: number;
  unacked: number;
  consumers: number;
  /** Age of the message at the head of the queue (its `timestamp` property), null when empty or unknown. */
  oldest_age_seconds: number | null;
}

interface ManagementQueue {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  head_message_timestamp?: number;
}

/**
 * Queue depth, consumers and oldest-message age of every queue of the vhost, from RabbitMQ's
 * management API: one GET for all queues, cached `ttlMs` (default 5 s, the broker's own statistics
 * interval), so neither scrapes nor console refreshes reach the broker more often than that.
 * The oldest age comes from the head message's `timestamp` property, which every publisher of
 * ours sets (libs/messaging publisher.ts). The broker refreshes these figures every few seconds.
 */
export class BrokerStats {
  private readonly cache: Cached<QueueStat[]>;
  private readonly url: string;
  private readonly auth: string;

  constructor(managementUrl: string, amqpUrl: string, ttlMs = 5000, private readonly timeoutMs = 3000) {
    const management = new URL(managementUrl);
    this.auth = `Basic ${Buffer.from(`${decodeURIComponent(management.username || "guest")}:${decodeURIComponent(management.password || "guest")}`).toString("base64")}`;
    management.username = "";
    management.password = "";
    const vhost = decodeURIComponent(new URL(amqpUrl).pathname.replace(/^\//, "")) || "/";
    this.url = `${management.toString().replace(/\/$/, "")}/api/queues/${encodeURIComponent(vhost)}?columns=name,messages_ready,messages_unacknowledged,consumers,head_message_timestamp`;
    this.cache = new Cached(() => this.fetch(), ttlMs);
  }

  queues(): Promise<QueueStat[]> {
    return this.cache.get();
  }

  private async fetch(): Promise<QueueStat[]> {
    const response = await fetch(this.url, { headers: { authorization: this.auth }, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) throw new Error(`RabbitMQ management API answered ${response.status}`);
    const now = Date.now() / 1000;
    return ((await response.json()) as ManagementQueue[])
      .map((q) => ({
        queue: q.name,
        ready: q.messages_ready ?? 0,
        unacked: q.messages_unacknowledged ?? 0,
        consumers: q.consumers ?? 0,
        oldest_age_seconds: q.head_message_timestamp && (q.messages_ready ?? 0) > 0 ? Math.max(0, Math.round(now - q.head_message_timestamp)) : null,
      }))
      .sort((a, b) => a.queue.localeCompare(b.queue));
  }
}
