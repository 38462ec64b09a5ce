import { randomBytes } from "node:crypto";
import { eraseContactData, recordAudit, type Actor } from "@herald/audit";
import { AppError } from "@herald/errors";
import { newId, isUniqueViolation, type Database, Prisma } from "@herald/db";
import { registerDevice, type Registration } from "./devices";
import type { UserDirectory } from "./directory";
import { byRef, isRecordNotFound } from "./lookup";
import { PROFILE_INCLUDE as include, toProfile } from "./mapping";
import type { UserProfile } from "./profile";
import type { CreateUserInput, DeviceInput, PreferencesInput, UpdateUserInput } from "./schemas";

/** A user as a write answers it: the signing secret appears once, in the answer that made it. */
export type UserWithSecret = UserProfile & { webhook_secret?: string };

type Owner = Registration["previousOwner"];

/** How long a rotated-out webhook secret keeps signing, unless the rotation says otherwise. */
export const DEFAULT_KEEP_PREVIOUS_MS = 24 * 3_600_000;

export interface RotatedSecret {
  id: string;
  webhook_secret: string;
  /** Until when the replaced secret still signs (a second signature); null when it stopped at once. */
  previous_secret_expires_at: string | null;
}

/**
 * A signing secret in the Standard Webhooks form: `whsec_` and the base64 of 32 random bytes (the
 * user's webhook secret, and a status webhook endpoint's). Secrets made before were `whsec_` and
 * hex; they keep working (see libs/providers/src/standard-webhooks.ts).
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

function preferenceColumns(p: PreferencesInput): Prisma.PreferencesUncheckedUpdateInput {
  const columns: Prisma.PreferencesUncheckedUpdateInput = {};
  if (p.email_enabled !== undefined) columns.emailEnabled = p.email_enabled;
  if (p.push_enabled !== undefined) columns.pushEnabled = p.push_enabled;
  if (p.sms_enabled !== undefined) columns.smsEnabled = p.sms_enabled;
  if (p.whatsapp_enabled !== undefined) columns.whatsappEnabled = p.whatsapp_enabled;
  if (p.webhook_enabled !== undefined) columns.webhookEnabled = p.webhook_enabled;
  if (p.slack_enabled !== undefined) columns.slackEnabled = p.slack_enabled;
  if (p.quiet_hours !== undefined) {
    columns.quietHoursStart = p.quiet_hours?.start ?? null;
    columns.quietHoursEnd = p.quiet_hours?.end ?? null;
    columns.quietHoursTimezone = p.quiet_hours?.timezone ?? null;
  }
  return columns;
}

/** Maps the database's refusals of a user write to the API's: 409 on a taken external_id, 404 on a user deleted meanwhile. */
function writeError(error: unknown): never {
  if (isUniqueViolation(error)) throw new AppError("conflict", "A user with this external_id already exists", [{ field: "external_id", message: "is taken" }]);
  if (isRecordNotFound(error)) throw AppError.notFound("User");
  throw error;
}

function withSecret(profile: UserProfile, secret: string | undefined): UserWithSecret {
  return secret ? { ...profile, webhook_secret: secret } : profile;
}

/** Writes made by the platform itself (the launcher's seed), not through the API with a key. */
const SYSTEM: Actor = { keyId: "system" };
const target = (id: string) => ({ type: "user", id });
type Tx = Prisma.TransactionClient;
/** The user as its audit entries show it (the API's view; the webhook secret is never in it). */
const snapshot = async (tx: Tx, id: string) => {
  const row = await tx.user.findUnique({ where: { id }, include });
  return row ? toProfile(row) : undefined;
};

/** The write side of users: every change goes through here, is audited in its transaction, and invalidates the cache. */
export class UserService {
  constructor(
    private readonly db: Database,
    private readonly directory: UserDirectory,
  ) {}

  async create(input: CreateUserInput, actor: Actor = SYSTEM): Promise<UserWithSecret> {
    const id = newId();
    const prefs = input.preferences ?? {};
    const secret = input.webhook_url ? newWebhookSecret() : undefined;
    let moved: Owner;
    const row = await this.db.prisma
      .$transaction(async (tx) => {
        await tx.user.create({
          data: {
            id,
            externalId: input.external_id ?? null,
            name: input.name ?? null,
            email: input.email ?? null,
            phone: input.phone ?? null,
            language: prefs.language ?? input.language ?? "en",
            timezone: prefs.timezone ?? input.timezone ?? "UTC",
            webhookUrl: input.webhook_url ?? null,
            webhookSecret: secret ?? null,
            slackWebhookUrl: input.slack_webhook_url ?? null,
            preferences: { create: preferenceColumns(prefs) as Prisma.PreferencesCreateWithoutUserInput },
          },
        });
        if (prefs.push_token) moved = (await registerDevice(tx, id, prefs.push_token, prefs.push_platform ?? "android")).previousOwner;
        const created = await tx.user.findUniqueOrThrow({ where: { id }, include });
        await recordAudit(tx, actor, { action: "user.create", target: target(id), after: toProfile(created) });
        return created;
      })
      .catch(writeError);
    await this.directory.invalidate(row.id, row.externalId, moved?.id, moved?.externalId);
    return withSecret(toProfile(row), secret);
  }

  async get(ref: string): Promise<UserProfile> {
    const user = await this.directory.find(ref);
    if (!user) throw AppError.notFound("User");
    return user;
  }

  /** Live users in id order (ids are time-ordered), after the cursor's id, optionally filtered. */
  async list(options: { limit: number; after?: string; email?: string; externalId?: string }): Promise<{ users: UserProfile[]; next: string | undefined }> {
    const rows = await this.db.prisma.user.findMany({
      where: {
        deletedAt: null,
        ...(options.after ? { id: { gt: options.after } } : {}),
        // Prisma's insensitive equals is an ILIKE: escape its wildcards so the match is literal.
        ...(options.email ? { email: { equals: options.email.replace(/[\\%_]/g, "\\$&"), mode: "insensitive" as const } } : {}),
        ...(options.externalId ? { externalId: options.externalId } : {}),
      },
      orderBy: { id: "asc" },
      take: options.limit + 1,
      include,
    });
    const page = rows.slice(0, options.limit);
    return { users: page.map(toProfile), next: rows.length > options.limit ? page[page.length - 1]?.id : undefined };
  }

  /**
   * Fields left out keep their values; null clears. A webhook_url given to a user without a signing
   * secret makes one (answered once, here); clearing webhook_url clears the secret with it.
   */
  async update(ref: string, input: UpdateUserInput, actor: Actor = SYSTEM): Promise<UserWithSecret> {
    const current = await this.requireRow(ref);
    const data: Prisma.UserUncheckedUpdateInput = {};
    if (input.external_id !== undefined) data.externalId = input.external_id;
    if (input.name !== undefined) data.name = input.name;
    if (input.email !== undefined) data.email = input.email;
    if (input.phone !== undefined) data.phone = input.phone;
    if (input.language !== undefined) data.language = input.language;
    if (input.timezone !== undefined) data.timezone = input.timezone;
    if (input.webhook_url !== undefined) data.webhookUrl = input.webhook_url;
    if (input.webhook_url === null) Object.assign(data, { webhookSecret: null, webhookSecretPrevious: null, webhookSecretPreviousExpiresAt: null });
    if (input.slack_webhook_url !== undefined) data.slackWebhookUrl = input.slack_webhook_url;
    let secret: string | undefined;
    const row = await this.db.prisma
      .$transaction(async (tx) => {
        const before = await snapshot(tx, current.id);
        await tx.user.update({ where: { id: current.id, deletedAt: null }, data });
        if (input.webhook_url) {
          // Only where there is none yet, in the same statement, so two concurrent PATCHes cannot
          // both answer a secret of which only one was kept.
          const candidate = newWebhookSecret();
          const { count } = await tx.user.updateMany({ where: { id: current.id, webhookSecret: null }, data: { webhookSecret: candidate } });
          if (count === 1) secret = candidate;
        }
        const after = await tx.user.findUniqueOrThrow({ where: { id: current.id }, include });
        await recordAudit(tx, actor, { action: "user.update", target: target(current.id), before, after: { ...toProfile(after), ...(secret ? { webhook_secret: "(made; shown once in the answer)" } : {}) } });
        return after;
      })
      .catch(writeError);
    await this.directory.invalidate(current.id, current.externalId, row.externalId);
    return withSecret(toProfile(row), secret);
  }

  /**
   * Erases contact data, the webhook secret and devices; the id stays so that past notifications
   * keep their owner. The contact data also leaves the user's earlier audit entries.
   */
  async delete(ref: string, actor: Actor = SYSTEM): Promise<void> {
    const current = await this.requireRow(ref);
    await this.db.prisma
      .$transaction(async (tx) => {
        const before = await snapshot(tx, current.id);
        await tx.device.deleteMany({ where: { userId: current.id } });
        await tx.user.update({
          where: { id: current.id, deletedAt: null },
          data: {
            deletedAt: new Date(),
            externalId: null,
            name: null,
            email: null,
            phone: null,
            webhookUrl: null,
            webhookSecret: null,
            webhookSecretPrevious: null,
            webhookSecretPreviousExpiresAt: null,
            slackWebhookUrl: null,
          },
        });
        await eraseContactData(tx, current.id);
        await recordAudit(tx, actor, {
          action: "user.delete",
          target: target(current.id),
          ...(before ? { before: { id: before.id, external_id: before.external_id, devices: before.devices.length } } : {}),
        });
      })
      .catch(writeError);
    await this.directory.invalidate(current.id, current.externalId);
  }

  async getPreferences(ref: string): Promise<UserProfile["preferences"]> {
    return (await this.get(ref)).preferences;
  }

  /** Fields left out keep their values. `push_token` registers a device (the original API's way). */
  async putPreferences(ref: string, input: PreferencesInput, actor: Actor = SYSTEM): Promise<UserProfile> {
    const current = await this.requireRow(ref);
    const columns = preferenceColumns(input);
    let moved: Owner;
    const row = await this.db.prisma
      .$transaction(async (tx) => {
        const before = await snapshot(tx, current.id);
        await tx.preferences.upsert({
          where: { userId: current.id },
          create: { userId: current.id, ...(columns as Prisma.PreferencesCreateWithoutUserInput) },
          update: columns,
        });
        if (input.language !== undefined || input.timezone !== undefined) {
          await tx.user.update({
            where: { id: current.id, deletedAt: null },
            data: { ...(input.language ? { language: input.language } : {}), ...(input.timezone ? { timezone: input.timezone } : {}) },
          });
        }
        if (input.push_token) moved = (await registerDevice(tx, current.id, input.push_token, input.push_platform ?? "android")).previousOwner;
        const after = await tx.user.findUniqueOrThrow({ where: { id: current.id }, include });
        await recordAudit(tx, actor, {
          action: "user.preferences.update",
          target: target(current.id),
          ...(before ? { before: { preferences: before.preferences, devices: before.devices } } : {}),
          after: { preferences: toProfile(after).preferences, devices: toProfile(after).devices },
        });
        return after;
      })
      .catch(writeError);
    await this.directory.invalidate(current.id, current.externalId, moved?.id, moved?.externalId);
    return toProfile(row);
  }

  /**
   * Registers a push token (idempotent: `created` is false when the user already had it). A token
   * another user had moves to this one, and both users' cached profiles are invalidated.
   */
  async addDevice(ref: string, input: DeviceInput, actor: Actor = SYSTEM): Promise<Registration> {
    const current = await this.requireRow(ref);
    const registration = await this.db.prisma
      .$transaction(async (tx) => {
        // Lock the user row: a concurrent DELETE of the user cannot slip in between.
        const locked = await tx.user.updateMany({ where: { id: current.id, deletedAt: null }, data: { updatedAt: new Date() } });
        if (locked.count === 0) throw AppError.notFound("User");
        const registration = await registerDevice(tx, current.id, input.token, input.platform);
        if (registration.created) {
          await recordAudit(tx, actor, {
            action: "user.device.add",
            target: target(current.id),
            after: { token: input.token, platform: input.platform, ...(registration.previousOwner ? { moved_from_user: registration.previousOwner.id } : {}) },
          });
        }
        return registration;
      })
      .catch(writeError);
    const moved = registration.previousOwner;
    await this.directory.invalidate(current.id, current.externalId, moved?.id, moved?.externalId);
    return registration;
  }

  /** DELETE /users/:id/devices/:token: 404 when the user (or that token of theirs) does not exist. */
  async deleteDevice(ref: string, token: string, actor: Actor = SYSTEM): Promise<void> {
    const current = await this.requireRow(ref);
    const count = await this.db.prisma.$transaction(async (tx) => {
      const removed = await tx.device.findFirst({ where: { userId: current.id, token } });
      if (!removed) return 0;
      await tx.device.delete({ where: { token } });
      await recordAudit(tx, actor, { action: "user.device.remove", target: target(current.id), before: { token, platform: removed.platform } });
      return 1;
    });
    await this.directory.invalidate(current.id, current.externalId);
    if (count === 0) throw AppError.notFound("Device");
  }

  /**
   * For workers: removes tokens the provider reports invalid from this user (by id), if the user
   * still has them (a token that moved to another user meanwhile is left alone), and invalidates
   * the cached profile. Never throws for a missing user or token; answers how many were removed.
   */
  async removeDevices(userId: string, tokens: readonly string[]): Promise<number> {
    if (tokens.length === 0) return 0;
    const { count } = await this.db.prisma.device.deleteMany({ where: { userId, token: { in: [...tokens] } } });
    const user = await this.db.prisma.user.findUnique({ where: { id: userId }, select: { externalId: true } });
    await this.directory.invalidate(userId, user?.externalId);
    return count;
  }

  /** removeDevices for one token: true when it was removed. */
  async removeDevice(userId: string, token: string): Promise<boolean> {
    return (await this.removeDevices(userId, [token])) > 0;
  }

  /**
   * A new signing secret for the user's webhook_url. The one it replaces stays valid for
   * `keepPreviousForMs` (a second Standard Webhooks signature on every post meanwhile), so a
   * receiver can switch to the new secret without refusing anything; 0 ends it at once.
   * 409 without a webhook_url.
   */
  async rotateWebhookSecret(ref: string, keepPreviousForMs = DEFAULT_KEEP_PREVIOUS_MS, actor: Actor = SYSTEM): Promise<RotatedSecret> {
    const current = await this.requireRow(ref);
    if (!current.webhookUrl) {
      throw new AppError("conflict", "The user has no webhook_url; set one with PATCH /users/:id first", [{ field: "webhook_url", message: "is not set" }]);
    }
    const secret = newWebhookSecret();
    // One statement: the previous secret is the one this replaces, whatever rotated meanwhile;
    // audited in the same transaction.
    const rows = await this.db.prisma
      .$transaction(async (tx) => {
        const updated = await tx.$queryRaw<{ expires: Date | null }[]>`UPDATE users
            SET webhook_secret_previous = CASE WHEN ${keepPreviousForMs}::float8 > 0 THEN webhook_secret END,
                webhook_secret_previous_expires_at = CASE WHEN ${keepPreviousForMs}::float8 > 0 AND webhook_secret IS NOT NULL
                                                          THEN now() + make_interval(secs => ${keepPreviousForMs}::float8 / 1000) END,
                webhook_secret = ${secret}, updated_at = now()
          WHERE id = ${current.id}::uuid AND deleted_at IS NULL
        RETURNING webhook_secret_previous_expires_at AS expires`;
        if (updated.length > 0) {
          await recordAudit(tx, actor, { action: "user.webhook_secret.rotate", target: target(current.id), after: { keep_previous_for_ms: keepPreviousForMs } });
        }
        return updated;
      })
      .catch(writeError);
    if (rows.length === 0) throw AppError.notFound("User");
    await this.directory.invalidate(current.id, current.externalId);
    return { id: current.id, webhook_secret: secret, previous_secret_expires_at: rows[0]!.expires?.toISOString() ?? null };
  }

  private async requireRow(ref: string): Promise<{ id: string; externalId: string | null; webhookUrl: string | null }> {
    const select = { id: true, externalId: true, webhookUrl: true };
    const row = await byRef(ref, (where) => this.db.prisma.user.findFirst({ where, select }));
    if (!row) throw AppError.notFound("User");
    return row;
  }
}
