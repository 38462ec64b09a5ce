import type { Redis } from "ioredis";

export interface CacheLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

const MAX_PENDING = 10_000;
/** How long a key's invalidation counter outlives its last invalidation (well past any load). */
const GENERATION_TTL_SECONDS = 3600;
const generationKey = (key: string) => `${key}:gen`;

/** SET the value only if nobody invalidated the key since the reader looked (KEYS: key, gen). */
const SET_IF_GENERATION = `
if (redis.call('GET', KEYS[2]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
  return 1
end
return 0`;

/** Invalidate: bump the counter, drop the value (KEYS: key, gen). */
const INVALIDATE = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return redis.call('DEL', KEYS[1])`;

type ScriptedRedis = Redis & {
  heraldSetIfGeneration(key: string, gen: string, value: string, generation: string, ttl: number): Promise<number>;
  heraldInvalidate(key: string, gen: string, ttl: number): Promise<number>;
};

/**
 * A read-through JSON cache over Redis. Redis is an accelerator, never a dependency: every
 * failure to read or write it is logged and answered from the loader instead.
 *
 * A reader that misses loads from the database and fills the cache; if a writer invalidated the
 * key meanwhile, that load may have read the old row, so the fill is made conditional on the key's
 * invalidation counter being the one the reader saw (one Lua script). Without this, a worker that
 * read a user just before its deletion could cache the deleted user for the whole TTL.
 */
export class JsonCache {
  /** Invalidations that failed (Redis away): retried when it is back, so no stale entry outlives the outage. */
  private readonly pending = new Set<string>();
  private waitingForRedis = false;

  private readonly redis: ScriptedRedis;

  constructor(
    redis: Redis,
    private readonly ttlSeconds: number,
    private readonly logger?: CacheLogger,
  ) {
    if (!("heraldSetIfGeneration" in redis)) {
      redis.defineCommand("heraldSetIfGeneration", { numberOfKeys: 2, lua: SET_IF_GENERATION });
      redis.defineCommand("heraldInvalidate", { numberOfKeys: 2, lua: INVALIDATE });
    }
    this.redis = redis as ScriptedRedis;
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.lookup<T>(key)).value;
  }

  /** The cached value and the key's invalidation counter, in one round trip. */
  private async lookup<T>(key: string): Promise<{ value: T | undefined; generation: string | undefined }> {
    try {
      if (this.pending.size > 0) await this.flushPending();
      const [raw, generation] = await this.redis.mget(key, generationKey(key));
      return { value: raw ? (JSON.parse(raw) as T) : undefined, generation: generation ?? "0" };
    } catch (error) {
      this.warn("cache read failed", key, error);
      return { value: undefined, generation: undefined };
    }
  }

  /** Invalidation. A failure is logged, not thrown, and the keys are deleted again once Redis is back. */
  async delete(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await Promise.all(keys.map((key) => this.redis.heraldInvalidate(key, generationKey(key), GENERATION_TTL_SECONDS)));
    } catch (error) {
      this.warn("cache invalidation failed; retried when Redis is back", keys.join(","), error);
      for (const key of keys) if (this.pending.size < MAX_PENDING) this.pending.add(key);
      this.flushWhenReady();
    }
  }

  /** Reads of this cache skip Redis while invalidations are pending (they could be stale). */
  private async flushPending(): Promise<void> {
    const keys = [...this.pending];
    if (keys.length === 0) return;
    await Promise.all(keys.map((key) => this.redis.heraldInvalidate(key, generationKey(key), GENERATION_TTL_SECONDS)));
    for (const key of keys) this.pending.delete(key);
  }

  /** Other processes read these keys too, so the retry must not wait for this one's next read. */
  private flushWhenReady(): void {
    if (this.waitingForRedis) return;
    this.waitingForRedis = true;
    this.redis.once("ready", () => {
      this.waitingForRedis = false;
      this.flushPending().catch((error: unknown) => {
        this.warn("cache invalidation retry failed", [...this.pending].join(","), error);
        this.flushWhenReady();
      });
    });
  }

  /** The cached value, or the loader's (cached when it is not undefined). */
  async readThrough<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const { value: cached, generation } = await this.lookup<T>(key);
    if (cached !== undefined) return cached;
    const value = await load();
    if (value !== undefined && generation !== undefined) {
      try {
        await this.redis.heraldSetIfGeneration(key, generationKey(key), JSON.stringify(value), generation, this.ttlSeconds);
      } catch (error) {
        this.warn("cache write failed", key, error);
      }
    }
    return value;
  }

  private warn(message: string, key: string, error: unknown): void {
    this.logger?.warn(message, { key, error: error instanceof Error ? error.message : String(error) });
  }
}
