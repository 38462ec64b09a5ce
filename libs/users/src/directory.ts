import { isUuid, type Database } from "@herald/db";
import { JsonCache, type CacheLogger, type Redis } from "@herald/cache";
import { toProfile, type UserRow } from "./mapping";
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

  /**
   * Straight from PostgreSQL, in one statement on the pg pool: this is every cache miss of the send
   * path, and the same read through Prisma costs about 6 ms of CPU (its query compiler) against a
   * fraction of a millisecond here. The id wins over an external_id that happens to equal it.
   */
  async load(ref: string): Promise<UserProfile | undefined> {
    const { rows } = await this.db.pool.query<ProfileRow>(PROFILE_SQL, [isUuid(ref) ? ref : null, ref]);
    const row = rows[0];
    return row && toProfile({ ...row, devices: row.devices.map((d) => ({ ...d, createdAt: new Date(d.createdAt) })) });
  }

  /** Drops every cached form of these users (by id and by external id). */
  async invalidate(...refs: (string | null | undefined)[]): Promise<void> {
    await this.cache.delete(...refs.filter((r): r is string => typeof r === "string" && r.length > 0).map(key));
  }
}

/**
 * A live user by id ($1, null when the ref is no UUID) or external_id ($2), with preferences and
 * devices, its columns named as the Prisma row toProfile() takes (devices' createdAt as JSON text).
 */
const PROFILE_SQL = `
SELECT u.id, u.external_id AS "externalId", u.name, u.email, u.phone, u.language, u.timezone,
       u.webhook_url AS "webhookUrl", u.slack_webhook_url AS "slackWebhookUrl",
       u.created_at AS "createdAt", u.updated_at AS "updatedAt",
       CASE WHEN p.user_id IS NOT NULL THEN json_build_object(
         'emailEnabled', p.email_enabled, 'pushEnabled', p.push_enabled, 'smsEnabled', p.sms_enabled,
         'whatsappEnabled', p.whatsapp_enabled, 'webhookEnabled', p.webhook_enabled, 'slackEnabled', p.slack_enabled,
         'quietHoursStart', p.quiet_hours_start, 'quietHoursEnd', p.quiet_hours_end, 'quietHoursTimezone', p.quiet_hours_timezone) END AS preferences,
       COALESCE((SELECT json_agg(json_build_object('token', d.token, 'platform', d.platform, 'createdAt', d.created_at) ORDER BY d.created_at, d.token)
                   FROM devices d WHERE d.user_id = u.id), '[]'::json) AS devices
  FROM users u
  LEFT JOIN preferences p ON p.user_id = u.id
 WHERE u.deleted_at IS NULL AND (u.id = $1::uuid OR u.external_id = $2)
 ORDER BY u.id = $1::uuid DESC NULLS LAST
 LIMIT 1`;

type ProfileRow = Omit<UserRow, "devices"> & { devices: (Omit<UserRow["devices"][number], "createdAt"> & { createdAt: string })[] };
