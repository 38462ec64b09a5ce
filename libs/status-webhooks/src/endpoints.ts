import { recordAudit, recordAuditSql, type Actor } from "@herald/audit";
import { AppError } from "@herald/errors";
import { isUuid, newId, withTransaction, type Database, type Prisma } from "@herald/db";
import { DEFAULT_KEEP_PREVIOUS_MS, newWebhookSecret } from "@herald/users";
import type { CreateEndpointInput, UpdateEndpointInput } from "./schemas";

type EndpointRow = Prisma.WebhookEndpointGetPayload<object>;

/** A status webhook endpoint as the API shows it (never its secret). */
export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  /** Why it was disabled (failing for too long, or through the API); null while enabled. */
  disabled_reason: string | null;
  /** Since when every post to it has failed; null while it answers. */
  failing_since: string | null;
  last_error: string | null;
  last_success_at: string | null;
  /** Events waiting to be posted to it. */
  pending_events: number;
  created_at: string;
  updated_at: string;
}

/** The create answer: the view and, this once, the signing secret. */
export type CreatedEndpoint = EndpointView & { secret: string };

const iso = (d: Date | null) => d?.toISOString() ?? null;

function toView(row: EndpointRow, pending: number): EndpointView {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    failing_since: iso(row.failingSince),
    last_error: row.lastError,
    last_success_at: iso(row.lastSuccessAt),
    pending_events: pending,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

const SYSTEM: Actor = { keyId: "system" };
const target = (id: string) => ({ type: "webhook_endpoint", id });
/** What the audit log keeps of an endpoint: its settings, never its secret. */
const audited = (row: EndpointRow) => ({ url: row.url, events: row.events, description: row.description, enabled: row.enabled });

/** /webhook-endpoints: the subscriptions to status events; every write is audited in its transaction. */
export class WebhookEndpoints {
  constructor(private readonly db: Database) {}

  async create(input: CreateEndpointInput, actor: Actor = SYSTEM): Promise<CreatedEndpoint> {
    const secret = newWebhookSecret();
    const row = await this.db.prisma.$transaction(async (tx) => {
      const created = await tx.webhookEndpoint.create({
        data: { id: newId(), url: input.url, events: input.events, description: input.description ?? null, secret },
      });
      await recordAudit(tx, actor, { action: "webhook_endpoint.create", target: target(created.id), after: audited(created) });
      return created;
    });
    return { ...toView(row, 0), secret };
  }

  async get(id: string): Promise<EndpointView> {
    const row = isUuid(id) ? await this.db.prisma.webhookEndpoint.findUnique({ where: { id } }) : null;
    if (!row) throw AppError.notFound("Webhook endpoint");
    return toView(row, (await this.pending([id])).get(id) ?? 0);
  }

  /** Endpoints in creation order; `after` is the last id of the previous page. */
  async list({ limit, after }: { limit: number; after?: string }): Promise<{ endpoints: EndpointView[]; next: string | undefined }> {
    const rows = await this.db.prisma.webhookEndpoint.findMany({
      where: after && isUuid(after) ? { id: { gt: after } } : {},
      orderBy: { id: "asc" },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const pending = await this.pending(page.map((r) => r.id));
    return { endpoints: page.map((r) => toView(r, pending.get(r.id) ?? 0)), next: rows.length > limit ? page[page.length - 1]?.id : undefined };
  }

  /** Fields left out keep their values. `enabled: true` re-enables it and clears its failure streak. */
  async update(id: string, input: UpdateEndpointInput, actor: Actor = SYSTEM): Promise<EndpointView> {
    await this.get(id);
    const data: Prisma.WebhookEndpointUpdateInput = {};
    if (input.url !== undefined) data.url = input.url;
    if (input.events !== undefined) data.events = input.events;
    if (input.description !== undefined) data.description = input.description;
    if (input.enabled === true) Object.assign(data, { enabled: true, disabledReason: null, failingSince: null });
    if (input.enabled === false) Object.assign(data, { enabled: false, disabledReason: "disabled through the API" });
    await this.db.prisma.$transaction(async (tx) => {
      const before = await tx.webhookEndpoint.findUniqueOrThrow({ where: { id } });
      const after = await tx.webhookEndpoint.update({ where: { id }, data });
      await recordAudit(tx, actor, { action: "webhook_endpoint.update", target: target(id), before: audited(before), after: audited(after) });
    });
    return this.get(id);
  }

  /** Deletes the endpoint and every event still waiting for it. */
  async delete(id: string, actor: Actor = SYSTEM): Promise<void> {
    const removed =
      isUuid(id) &&
      (await this.db.prisma.$transaction(async (tx) => {
        const before = await tx.webhookEndpoint.findUnique({ where: { id } });
        if (!before) return false;
        await tx.webhookEndpoint.delete({ where: { id } });
        await recordAudit(tx, actor, { action: "webhook_endpoint.delete", target: target(id), before: audited(before) });
        return true;
      }));
    if (!removed) throw AppError.notFound("Webhook endpoint");
  }

  /**
   * A new signing secret; the replaced one keeps signing (a second signature) for
   * `keepPreviousForMs`, 0 ends it at once.
   */
  async rotateSecret(
    id: string,
    keepPreviousForMs = DEFAULT_KEEP_PREVIOUS_MS,
    actor: Actor = SYSTEM,
  ): Promise<{ id: string; secret: string; previous_secret_expires_at: string | null }> {
    if (!isUuid(id)) throw AppError.notFound("Webhook endpoint");
    const secret = newWebhookSecret();
    const rows = await withTransaction(this.db.pool, async (client) => {
      const { rows: rotated } = await client.query<{ expires: Date | null }>(
        `UPDATE webhook_endpoints
            SET secret_previous = CASE WHEN $3::float8 > 0 THEN secret END,
                secret_previous_expires_at = CASE WHEN $3::float8 > 0 THEN now() + make_interval(secs => $3::float8 / 1000) END,
                secret = $2, updated_at = now()
          WHERE id = $1
        RETURNING secret_previous_expires_at AS expires`,
        [id, secret, keepPreviousForMs],
      );
      if (rotated.length > 0) {
        await recordAuditSql(client, actor, { action: "webhook_endpoint.secret.rotate", target: target(id), after: { keep_previous_for_ms: keepPreviousForMs } });
      }
      return rotated;
    });
    if (rows.length === 0) throw AppError.notFound("Webhook endpoint");
    return { id, secret, previous_secret_expires_at: rows[0]!.expires?.toISOString() ?? null };
  }

  private async pending(ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.pool.query<{ endpoint_id: string; pending: number }>(
      `SELECT endpoint_id, count(*)::int AS pending FROM webhook_events
        WHERE endpoint_id = ANY($1::uuid[]) AND state = 'pending' GROUP BY endpoint_id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.endpoint_id, r.pending]));
  }
}
