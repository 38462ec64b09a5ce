import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { earlierThanBudget } from "@herald/testkit";
import { OutboundBudget, OutboundBudgets } from "./outbound-budget";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** The k-th take resolved no sooner than k intervals after the burst began (load only delays it). */
function expectWithinBudget(times: number[], since: number, perSecond: number): void {
  expect(earlierThanBudget(times, since, perSecond)).toEqual([]);
}

async function takeAll(budgets: OutboundBudget[], count: number): Promise<number[]> {
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      await budgets[i % budgets.length]!.take();
      times.push(Date.now());
    }),
  );
  return times;
}

describe("OutboundBudget", () => {
  const prefix = `herald_t_budget_${randomBytes(4).toString("hex")}:`;
  const clients: Redis[] = [];
  const client = () => {
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.on("error", () => undefined);
    clients.push(redis);
    return redis;
  };
  const ready = (redis: Redis) => new Promise<void>((resolve) => (redis.status === "ready" ? resolve() : redis.once("ready", () => resolve())));

  afterAll(async () => {
    const admin = new Redis(REDIS_URL);
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    for (const redis of clients) redis.disconnect();
  });

  it("spaces a burst from two replicas sharing the key: never more than the budget in any second, nothing refused", async () => {
    const [a, b] = [client(), client()];
    await Promise.all([a, b].map(ready));
    const replicas = [new OutboundBudget(a, { key: "shared", perSecond: 5 }), new OutboundBudget(b, { key: "shared", perSecond: 5 })];
    const started = Date.now();
    const times = await takeAll(replicas, 12);
    expect(times).toHaveLength(12);
    expectWithinBudget(times, started, 5);
    // 12 sends at 5 per second need 11 intervals of 200 ms: the burst waited.
    expect(Math.max(...times) - started).toBeGreaterThanOrEqual(2200 - 40);
  });

  it("keeps separate keys apart", async () => {
    const redis = client();
    await ready(redis);
    const started = Date.now();
    const times = await takeAll([new OutboundBudget(redis, { key: "one", perSecond: 2 }), new OutboundBudget(redis, { key: "two", perSecond: 2 })], 2);
    // One send on each key: neither waits for the other.
    expect(Math.max(...times) - started).toBeLessThan(150);
  });

  it("keeps the spacing in-process while Redis is unreachable", async () => {
    // A client that never connects: what the limiter sees while Redis is away.
    const down = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    down.on("error", () => undefined);
    clients.push(down);
    const started = Date.now();
    const times = await takeAll([new OutboundBudget(down, { key: "down", perSecond: 4 })], 6);
    expect(times).toHaveLength(6);
    expectWithinBudget(times, started, 4);
  });

  it("is unlimited at 0 and refuses a fractional budget", async () => {
    const budgets = new OutboundBudgets(client());
    expect(budgets.budget("x", 0)).toBeUndefined();
    expect(budgets.budget("y", 3)).toBe(budgets.budget("y", 3));
    expect(() => new OutboundBudget(client(), { key: "z", perSecond: 0.5 })).toThrow(RangeError);
    await budgets.ready();
    await budgets.close();
  });
});
