import { createHash } from "node:crypto";
import type { Redis } from "@herald/cache";

/** JSON with object keys sorted at every level, so that equal bodies hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function bodyHash(body: unknown): string {
  return createHash("sha256").update(canonical(body)).digest("hex");
}

export interface StoredAnswer<T> {
  body_hash: string;
  response: T;
}

/**
 * The fast path of idempotency: the first answer, cached in Redis for the key's lifetime. The
 * authority is the idempotency_keys table, written in the same transaction as the request, so a
 * Redis outage or flush can only make a replay slower, never make it send twice.
 */
export class IdempotencyCache {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
  ) {}

  private key(scope: string, key: string): string {
    return `idempotency:${scope}:${key}`;
  }

  async get<T>(scope: string, key: string): Promise<StoredAnswer<T> | undefined> {
    try {
      const raw = await this.redis.get(this.key(scope, key));
      return raw ? (JSON.parse(raw) as StoredAnswer<T>) : undefined;
    } catch {
      return undefined;
    }
  }

  async set<T>(scope: string, key: string, answer: StoredAnswer<T>): Promise<void> {
    try {
      await this.redis.set(this.key(scope, key), JSON.stringify(answer), "PX", this.ttlMs);
    } catch {
      // The database still answers replays.
    }
  }

  /** Many keys in one round trip (MGET); a missing key, or no key given, is undefined. */
  async getMany<T>(scope: string, keys: (string | undefined)[]): Promise<(StoredAnswer<T> | undefined)[]> {
    const given = keys.filter((k): k is string => k !== undefined);
    if (given.length === 0) return keys.map(() => undefined);
    try {
      const raw = await this.redis.mget(...given.map((k) => this.key(scope, k)));
      const byKey = new Map(given.map((k, i) => [k, raw[i]]));
      return keys.map((k) => {
        const value = k === undefined ? undefined : byKey.get(k);
        return value ? (JSON.parse(value) as StoredAnswer<T>) : undefined;
      });
    } catch {
      return keys.map(() => undefined);
    }
  }

  /** Many answers in one round trip (a pipeline). */
  async setMany<T>(scope: string, entries: { key: string; answer: StoredAnswer<T> }[]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const { key, answer } of entries) pipeline.set(this.key(scope, key), JSON.stringify(answer), "PX", this.ttlMs);
    await pipeline.exec().catch(() => undefined);
  }
}
