import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export interface UserRateLimiterOptions {
  /** RATE_LIMIT_PER_USER: requests allowed per window. */
  points: number;
  /** RATE_LIMIT_WINDOW. */
  windowMs: number;
  keyPrefix?: string;
}

/**
 * The per-user limit of the gateway: a fixed window counted atomically in Redis (one Lua script per
 * request, so concurrent requests cannot both take the last point). If Redis is unreachable an
 * in-process limiter with the same budget takes over, so an outage neither blocks sending nor
 * lifts the limit.
 */
export class UserRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    redis: Redis,
    private readonly options: UserRateLimiterOptions,
  ) {
    const duration = Math.max(1, Math.round(options.windowMs / 1000));
    this.limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: options.keyPrefix ?? "ratelimit:user",
      points: options.points,
      duration,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points: options.points, duration }),
    });
  }

  async consume(key: string, points = 1): Promise<RateLimitDecision> {
    try {
      const res = await this.limiter.consume(key, points);
      return this.decision(true, res);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return this.decision(false, rejection);
      throw rejection;
    }
  }

  /**
   * Gives back points taken by consume() for something that was not done after all (a send whose
   * write failed, or that turned out to be an idempotent replay). Call it once per consume it
   * undoes; it is one atomic decrement, like the consume.
   */
  async refund(key: string, points = 1): Promise<void> {
    await this.limiter.reward(key, points);
  }

  private decision(allowed: boolean, res: RateLimiterRes): RateLimitDecision {
    return { allowed, limit: this.options.points, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
  }
}
