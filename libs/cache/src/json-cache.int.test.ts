import { randomBytes } from "node:crypto";
import { createRedis, waitForRedis, type Redis } from "./redis";
import { JsonCache } from "./json-cache";

describe("JsonCache against a real Redis", () => {
  let redis: Redis;
  const prefix = `herald_t_cache_${randomBytes(4).toString("hex")}:`;

  beforeAll(async () => {
    redis = createRedis({ url: "redis://127.0.0.1:6379", keyPrefix: prefix });
    await waitForRedis(redis);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
  });

  it("reads through, and an invalidation drops the entry", async () => {
    const cache = new JsonCache(redis, 60);
    let loads = 0;
    const load = () => Promise.resolve({ n: ++loads });
    expect(await cache.readThrough("a", load)).toEqual({ n: 1 });
    expect(await cache.readThrough("a", load)).toEqual({ n: 1 });
    await cache.delete("a");
    expect(await cache.readThrough("a", load)).toEqual({ n: 2 });
  });

  it("does not cache what a reader loaded while a writer invalidated the key (the stale-fill race)", async () => {
    const reader = new JsonCache(redis, 60);
    const writer = new JsonCache(redis, 60);
    let row = "before";
    const slowLoad = async () => {
      const seen = row;
      // The writer commits and invalidates while this load is in flight.
      row = "after";
      await writer.delete("user");
      return seen;
    };
    expect(await reader.readThrough("user", slowLoad)).toBe("before");
    expect(await reader.get("user")).toBeUndefined();
    expect(await reader.readThrough("user", () => Promise.resolve(row))).toBe("after");
    expect(await reader.get("user")).toBe("after");
  });
});
