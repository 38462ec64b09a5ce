import { Redis } from "ioredis";

export type { Redis };

export interface RedisOptions {
  url: string;
  /** Prepended to every key (tests use one per test so they never see each other's keys). */
  keyPrefix: string;
}

/**
 * One ioredis client per process. Commands fail fast while Redis is unreachable (no offline
 * queue), so a Redis outage degrades reads to PostgreSQL instead of hanging requests.
 * Auto-pipelining batches the many small commands of concurrent requests into one round trip.
 */
export function createRedis({ url, keyPrefix }: RedisOptions): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    lazyConnect: false,
  });
  // Reconnects are ioredis's job; an 'error' event without a listener would crash the process.
  redis.on("error", () => undefined);
  return redis;
}

export async function pingRedis(redis: Redis): Promise<void> {
  const answer: string = await redis.ping();
  if (answer !== "PONG") throw new Error(`unexpected PING answer: ${answer}`);
}

/** Waits until the client is connected (at start, so the first requests do not fail fast). */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${String(timeoutMs)} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
    };
    redis.on("ready", onReady);
  });
}
