import { isUuid, type Database } from "@herald/db";
import { JsonCache, type CacheLogger, type Redis } from "@herald/cache";
import { toProfile } from "./mapping";
import type { DeviceView, Preferences, UserProfile } from "./profile";

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
    if (!row) return undefined;
    return toProfile({
      id: row.id,
      externalId: row.external_id,
      name: row.name,
      email: row.email,
      phone: row.phone,
      language: row.language,
      timezone: row.timezone,
      webhookUrl: row.webhook_url,
      slackWebhookUrl: row.slack_webhook_url,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      preferences: row.preferences && {
        emailEnabled: row.preferences.email_enabled,
        pushEnabled: row.preferences.push_enabled,
        smsEnabled: row.preferences.sms_enabled,
        whatsappEnabled: row.preferences.whatsapp_enabled,
        webhookEnabled: row.preferences.webhook_enabled,
        slackEnabled: row.preferences.slack_enabled,
        quietHoursStart: row.preferences.quiet_hours_start,
        quietHoursEnd: row.preferences.quiet_hours_end,
        quietHoursTimezone: row.preferences.quiet_hours_timezone,
      },
      devices: row.devices.map((d) => ({ token: d.token, platform: d.platform, createdAt: new Date(d.created_at) })),
    });
  }

  /** Drops every cached form of these users (by id and by external id). */
  async invalidate(...refs: (string | null | undefined)[]): Promise<void> {
    await this.cache.delete(...refs.filter((r): r is string => typeof r === "string" && r.length > 0).map(key));
  }
}

/** A live user by id ($1, null when the ref is no UUID) or external_id ($2), with preferences and devices. */
const PROFILE_SQL = `
SELECT u.id, u.external_id, u.name, u.email, u.phone, u.language, u.timezone, u.webhook_url, u.slack_webhook_url,
       u.created_at, u.updated_at,
       CASE WHEN p.user_id IS NOT NULL THEN json_build_object(
         'email_enabled', p.email_enabled, 'push_enabled', p.push_enabled, 'sms_enabled', p.sms_enabled,
         'whatsapp_enabled', p.whatsapp_enabled, 'webhook_enabled', p.webhook_enabled, 'slack_enabled', p.slack_enabled,
         'quiet_hours_start', p.quiet_hours_start, 'quiet_hours_end', p.quiet_hours_end, 'quiet_hours_timezone', p.quiet_hours_timezone) END AS preferences,
       COALESCE((SELECT json_agg(json_build_object('token', d.token, 'platform', d.platform, 'created_at', d.created_at) ORDER BY d.created_at, d.token)
                   FROM devices d WHERE d.user_id = u.id), '[]'::json) AS devices
  FROM users u
  LEFT JOIN preferences p ON p.user_id = u.id
 WHERE u.deleted_at IS NULL AND (u.id = $1::uuid OR u.external_id = $2)
 ORDER BY u.id = $1::uuid DESC NULLS LAST
 LIMIT 1`;

/** The statement's row: the profile's own columns as the API names them, timestamps as Dates. */
type ProfileRow = Omit<UserProfile, "preferences" | "devices" | "created_at" | "updated_at"> & {
  created_at: Date;
  updated_at: Date;
  preferences:
    | (Omit<Preferences, "language" | "timezone" | "quiet_hours"> & {
        quiet_hours_start: string | null;
        quiet_hours_end: string | null;
        quiet_hours_timezone: string | null;
      })
    | null;
  devices: DeviceView[];
};
