export { createRedis, pingRedis, waitForRedis } from "./redis";
export type { Redis, RedisOptions } from "./redis";
export { JsonCache } from "./json-cache";
export type { CacheLogger } from "./json-cache";
