import type { Device, PreferencesRow, User } from "@herald/db";
import type { Preferences, UserProfile } from "./profile";

/** What a UserProfile is built from: a Prisma row with PROFILE_INCLUDE, or the directory's own SQL. */
export type UserRow = Pick<User, "id" | "externalId" | "name" | "email" | "phone" | "language" | "timezone" | "webhookUrl" | "slackWebhookUrl" | "createdAt" | "updatedAt"> & {
  preferences: PreferenceFlags | null;
  devices: Pick<Device, "token" | "platform" | "createdAt">[];
};
type PreferenceFlags = Omit<PreferencesRow, "userId" | "updatedAt">;

/** What a query must include to build a UserProfile. */
export const PROFILE_INCLUDE = { preferences: true, devices: { orderBy: { createdAt: "asc" as const } } };

export function toPreferences(user: Pick<User, "language" | "timezone">, row: PreferenceFlags | null): Preferences {
  return {
    email_enabled: row?.emailEnabled ?? true,
    push_enabled: row?.pushEnabled ?? true,
    sms_enabled: row?.smsEnabled ?? true,
    whatsapp_enabled: row?.whatsappEnabled ?? true,
    webhook_enabled: row?.webhookEnabled ?? true,
    slack_enabled: row?.slackEnabled ?? true,
    language: user.language,
    timezone: user.timezone,
    quiet_hours:
      row?.quietHoursStart && row.quietHoursEnd
        ? { start: row.quietHoursStart, end: row.quietHoursEnd, timezone: row.quietHoursTimezone ?? user.timezone }
        : null,
  };
}

export function toProfile(row: UserRow): UserProfile {
  return {
    id: row.id,
    external_id: row.externalId,
    name: row.name,
    email: row.email,
    phone: row.phone,
    language: row.language,
    timezone: row.timezone,
    webhook_url: row.webhookUrl,
    slack_webhook_url: row.slackWebhookUrl,
    preferences: toPreferences(row, row.preferences),
    devices: row.devices.map((d) => ({ token: d.token, platform: d.platform, created_at: d.createdAt.toISOString() })),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
