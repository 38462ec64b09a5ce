import type { Database } from "@herald/db";
import { JsonCache, type CacheLogger, type Redis } from "@herald/cache";
import { byRef } from "./lookup";
import { PROFILE_INCLUDE, toProfile } from "./mapping";
import type { UserProfile } from "./profile";

const TTL_SECONDS = 300;
const key = (ref: string) => `user:${ref}`;

/**
 * The read side of users, shared by the gateway, the workers and the user service: a user by id
 * or external_id, through a Redis cache that every write invalidates. Deleted users are not found.
 */
export class UserDirectory {
  private readonly cache: JsonCache;

  constructor(
    private readonly db: Database,
    redis: Redis,
    logger?: CacheLogger,
  ) {
    this.cache = new JsonCache(redis, TTL_SECONDS, logger);
  }

  /** `ref` is the user's id or external_id. */
  async find(ref: string): Promise<UserProfile | undefined> {
    return this.cache.readThrough(key(ref), () => this.load(ref));
  }

  async load(ref: string): Promise<UserProfile | undefined> {
    const row = await byRef(ref, (where) => this.db.prisma.user.findFirst({ where, include: PROFILE_INCLUDE }));
    return row ? toProfile(row) : undefined;
  }

  /** Drops every cached form of these users (by id and by external id). */
  async invalidate(...refs: (string | null | undefined)[]): Promise<void> {
    await this.cache.delete(...refs.filter((r): r is string => typeof r === "string" && r.length > 0).map(key));
  }
}
