import type { Pool, PoolClient } from "pg";
import { newId, Prisma } from "@herald/db";

/** Who made a write: the key's fingerprint (never the key) and the request's correlation id. */
export interface Actor {
  keyId: string;
  correlationId?: string;
}

/** What a write did, as the audit log keeps it. */
export interface AuditWrite {
  /** `<target type>.<verb>`: template.update, dlq.replay, user.delete, ... */
  action: string;
  target: { type: string; id: string };
  before?: unknown;
  after?: unknown;
}

/** Fields of a user that an erasure (DELETE /users/:id) removes from the user's audit entries too. */
export const CONTACT_FIELDS = ["name", "email", "phone", "webhook_url", "slack_webhook_url", "webhook_secret"] as const;

/** A value as it reads back from a jsonb column (dates as ISO strings); undefined is no value. */
function asJson(value: unknown): Prisma.InputJsonValue | undefined {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue);
}

/**
 * Records writes in the audit log through a Prisma transaction client, so the entry commits (or
 * rolls back) with the write it records.
 */
export async function recordAudit(tx: Prisma.TransactionClient, actor: Actor, ...writes: AuditWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await tx.auditEntry.createMany({
    data: writes.map((w) => ({
      id: newId(),
      keyId: actor.keyId,
      action: w.action,
      targetType: w.target.type,
      targetId: w.target.id,
      before: asJson(w.before) ?? Prisma.DbNull,
      after: asJson(w.after) ?? Prisma.DbNull,
      correlationId: actor.correlationId ?? null,
    })),
  });
}

/** The same through a pg client (inside the caller's transaction) or a pool (one statement). */
export async function recordAuditSql(client: PoolClient | Pool, actor: Actor, ...writes: AuditWrite[]): Promise<void> {
  if (writes.length === 0) return;
  await client.query(
    `INSERT INTO audit_log (id, key_id, action, target_type, target_id, before, after, correlation_id)
     SELECT (e->>'id')::uuid, $1, e->>'action', e->>'target_type', e->>'target_id', NULLIF(e->'before', 'null'), NULLIF(e->'after', 'null'), $2
       FROM jsonb_array_elements($3::jsonb) AS e`,
    [
      actor.keyId,
      actor.correlationId ?? null,
      JSON.stringify(
        writes.map((w) => ({
          id: newId(),
          action: w.action,
          target_type: w.target.type,
          target_id: w.target.id,
          before: asJson(w.before) ?? null,
          after: asJson(w.after) ?? null,
        })),
      ),
    ],
  );
}

/**
 * The erasure of a user (DELETE /users/:id) reaches the audit log: the contact data in the user's
 * earlier entries is removed in the same transaction, so the log never keeps what was erased.
 */
export function eraseContactData(tx: Prisma.TransactionClient, userId: string): Prisma.PrismaPromise<number> {
  return tx.$executeRaw`UPDATE audit_log
     SET before = CASE WHEN jsonb_typeof(before) = 'object' THEN before - ${[...CONTACT_FIELDS]}::text[] ELSE before END,
         after = CASE WHEN jsonb_typeof(after) = 'object' THEN after - ${[...CONTACT_FIELDS]}::text[] ELSE after END
   WHERE target_type = 'user' AND target_id = ${userId}`;
}
