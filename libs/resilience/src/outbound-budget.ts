import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterQueue, RateLimiterRedis } from "rate-limiter-flexible";

/**
 * The increment script rate-limiter-flexible runs in Redis, replaced by a GCRA ("generic cell rate
 * algorithm"): the key holds the time the next send may go; a send is allowed once that time has
 * come and moves it one interval on (interval = ARGV[4] seconds / ARGV[3] points). Sends are spaced
 * evenly, so no second ever holds more than the budget, across window edges too (a fixed window
 * lets twice the budget through around its edge). It answers in the library's terms:
 * {points consumed, ms before the next send}; more than the limiter's points means "wait".
 */
const GCRA_SCRIPT = `
local interval = 1000 * tonumber(ARGV[4]) / tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local due = tonumber(redis.call('GET', KEYS[1]) or now)
if due < now then due = now end
if due - now > 0 then
  return {tonumber(ARGV[3]) + 1, math.ceil(due - now)}
end
local nextDue = due + interval * tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.3f', nextDue), 'PX', math.ceil(nextDue - now) + 1000)
return {1, math.ceil(interval)}
`;

export interface OutboundBudgetOptions {
  /** Names the budget in Redis: every worker replica with the same key shares it. */
  key: string;
  /** Whole sends per second (PUSH_RATE_PER_SECOND, ...); must be at least 1. */
  perSecond: number;
}

/**
 * One provider's outbound rate budget, shared by every replica through Redis: take() resolves
 * when a send fits the budget. Callers wait in order (RateLimiterQueue); nothing is ever refused.
 * If Redis is unreachable, each process keeps the same spacing on its own until it is back.
 */
export class OutboundBudget {
  readonly key: string;
  readonly perSecond: number;
  private readonly queue: RateLimiterQueue;

  constructor(redis: Redis, options: OutboundBudgetOptions) {
    if (!Number.isInteger(options.perSecond) || options.perSecond < 1) {
      throw new RangeError(`an outbound budget needs a whole number of sends per second, got ${options.perSecond}`);
    }
    this.key = options.key;
    this.perSecond = options.perSecond;
    const limiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: "outbound",
      points: options.perSecond,
      duration: 1,
      customIncrTtlLuaScript: GCRA_SCRIPT,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: "outbound", points: 1, duration: 1 / options.perSecond }),
    });
    this.queue = new RateLimiterQueue(limiter);
  }

  /** Waits until one more send fits the budget. */
  async take(): Promise<void> {
    await this.queue.removeTokens(1, this.key);
  }
}

/**
 * The budgets of one process, on a Redis connection of their own: the library installs its
 * increment script on the client it is given, and the gateway's per-user limiter needs the
 * library's own script on the shared client.
 */
export class OutboundBudgets {
  private connection: Redis | undefined;
  private readonly budgets = new Map<string, OutboundBudget>();

  constructor(private readonly redis: Redis) {}

  /** The budget for `key`, or undefined when `perSecond` is 0 (unlimited). */
  budget(key: string, perSecond: number): OutboundBudget | undefined {
    if (perSecond <= 0) return undefined;
    let budget = this.budgets.get(key);
    if (!budget) {
      if (!this.connection) {
        this.connection = this.redis.duplicate();
        // Reconnecting is ioredis's job; meanwhile the in-process spacing applies.
        this.connection.on("error", () => undefined);
      }
      budget = new OutboundBudget(this.connection, { key, perSecond });
      this.budgets.set(key, budget);
    }
    return budget;
  }

  /** Waits (up to `timeoutMs`) for the budgets' connection, so the first sends are already shared. */
  async ready(timeoutMs = 5000): Promise<void> {
    const connection = this.connection;
    if (!connection || connection.status === "ready") return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      connection.once("ready", done);
      function done() {
        clearTimeout(timer);
        connection?.off("ready", done);
        resolve();
      }
    });
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await connection.quit().catch(() => connection.disconnect());
  }
}
