import type { Pool } from "pg";
import { newId, withTransaction, type Channel, type DeliveryStatus, type Priority } from "@herald/db";
import { Batcher } from "./batcher";

/** A delivery claimed for one attempt, with what the handler needs from its request. */
export interface ClaimedDelivery {
  id: string;
  requestId: string;
  channel: Channel;
  priority: Priority;
  /** Attempts including this one. */
  attempt: number;
  templateVersionId: string | null;
  userId: string;
  variables: Record<string, unknown>;
  correlationId: string;
}

export type ClaimResult =
  | { kind: "claimed"; delivery: ClaimedDelivery }
  | { kind: "missing" }
  /** Already sent, failed, dead-lettered, suppressed or cancelled: a duplicate message. */
  | { kind: "finished"; status: DeliveryStatus }
  /** Not released yet (scheduled, held): the scheduler publishes it when it is due. */
  | { kind: "not_due"; status: DeliveryStatus }
  /** Another attempt holds it; `leaseExpired` when that attempt started too long ago to be alive. */
  | { kind: "busy"; leaseExpired: boolean; attempts: number };

export interface DeadLetterRecord {
  deliveryId: string | null;
  requestId: string | null;
  channel: string | null;
  correlationId: string | null;
  errorCode: string;
  error: string;
  attempts: number;
  routingKey: string | null;
  payload: unknown;
  headers: Record<string, unknown>;
}

/**
 * Every state change a worker makes to a delivery. Each is one statement, conditional on the state
 * the worker expects, so two copies of one message can never both move a delivery forward.
 */
export class DeliveryRepository {
  constructor(
    private readonly pool: Pool,
    private readonly leaseMs: number,
  ) {}

  private readonly claims = new Batcher<string, ClaimedDelivery | undefined>((ids) => this.claimMany(ids), 1);
  /**
   * "Sent" waits longer (25 ms): only the ack of the message waits for it, not the next send, and
   * at a few hundred mails a second it gathers several per statement instead of one or two.
   */
  private readonly sent = new Batcher<{ id: string; providerMessageId: string | null; outcome: unknown }, void>(
    (rows) => this.markSentMany(rows),
    25,
  );

  /** queued/retrying -> processing, counting the attempt; or why it cannot be claimed. */
  async claim(deliveryId: string): Promise<ClaimResult> {
    const delivery = await this.claims.call(deliveryId);
    if (delivery) return { kind: "claimed", delivery };
    const { rows: current } = await this.pool.query<{ status: DeliveryStatus; attempts: number; expired: boolean }>(
      `SELECT status, attempts, coalesce(claimed_at < now() - make_interval(secs => $2::float8 / 1000), true) AS expired
         FROM deliveries WHERE id = $1`,
      [deliveryId, this.leaseMs],
    );
    const state = current[0];
    if (!state) return { kind: "missing" };
    if (state.status === "processing") return { kind: "busy", leaseExpired: state.expired, attempts: state.attempts };
    if (state.status === "scheduled" || state.status === "held") return { kind: "not_due", status: state.status };
    return { kind: "finished", status: state.status };
  }

  /** One UPDATE ... RETURNING for every claim of this moment; undefined where it was not claimable. */
  private async claimMany(ids: string[]): Promise<(ClaimedDelivery | undefined)[]> {
    const { rows } = await this.pool.query<{
      id: string;
      request_id: string;
      channel: Channel;
      priority: Priority;
      attempts: number;
      template_version_id: string | null;
      user_id: string;
      variables: Record<string, unknown>;
      correlation_id: string;
    }>(
      `UPDATE deliveries d
          SET status = 'processing', attempts = d.attempts + 1, claimed_at = now(), updated_at = now()
         FROM notification_requests r
        WHERE d.id = ANY($1::uuid[]) AND r.id = d.request_id AND d.status IN ('queued', 'retrying')
      RETURNING d.id, d.request_id, d.channel, d.priority, d.attempts, d.template_version_id,
                r.user_id, r.variables, r.correlation_id`,
      [[...new Set(ids)]],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      // A second copy of one message in the same batch: only the first gets the claim.
      byId.delete(id);
      return row
        ? {
            id: row.id,
            requestId: row.request_id,
            channel: row.channel,
            priority: row.priority,
            attempt: row.attempts,
            templateVersionId: row.template_version_id,
            userId: row.user_id,
            variables: row.variables,
            correlationId: row.correlation_id,
          }
        : undefined;
    });
  }

  /** Gives a claim back without counting the attempt (the breaker refused the call). */
  async unclaim(deliveryId: string): Promise<void> {
    await this.pool.query(
      `UPDATE deliveries
          SET status = CASE WHEN attempts > 1 THEN 'retrying'::"DeliveryStatus" ELSE 'queued'::"DeliveryStatus" END,
              attempts = attempts - 1, claimed_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'processing'`,
      [deliveryId],
    );
  }

  async markSent(deliveryId: string, providerMessageId: string | null, outcome?: unknown): Promise<void> {
    await this.sent.call({ id: deliveryId, providerMessageId, outcome: outcome ?? null });
  }

  private async markSentMany(rows: { id: string; providerMessageId: string | null; outcome: unknown }[]): Promise<void[]> {
    await this.pool.query(
      `UPDATE deliveries d SET status = 'sent', sent_at = now(), provider_message_id = v.provider_message_id,
              next_attempt_at = NULL, outcome = COALESCE(v.outcome, d.outcome), updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, provider_message_id text, outcome jsonb)
        WHERE d.id = v.id AND d.status = 'processing'`,
      [JSON.stringify(rows.map((r) => ({ id: r.id, provider_message_id: r.providerMessageId, outcome: r.outcome })))],
    );
    return rows.map(() => undefined);
  }

  /** At send time the user had turned the channel off: the later choice wins. */
  async markSuppressed(deliveryId: string, reason: string): Promise<void> {
    await this.pool.query(
      `UPDATE deliveries SET status = 'suppressed', last_error = $2, last_error_code = 'suppressed', claimed_at = NULL,
              updated_at = now()
        WHERE id = $1 AND status = 'processing'`,
      [deliveryId, reason],
    );
  }

  async markRetrying(deliveryId: string, errorCode: string, error: string, nextAttemptAt: Date, outcome?: unknown): Promise<void> {
    await this.pool.query(
      `WITH moved AS (
         UPDATE deliveries SET status = 'retrying', last_error = $3, last_error_code = $2, next_attempt_at = $4,
                outcome = COALESCE($5::jsonb, outcome), claimed_at = NULL, updated_at = now()
          WHERE id = $1 AND status = 'processing'
         RETURNING id, attempts)
       INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable)
       SELECT id, attempts, $2, $3, true FROM moved`,
      [deliveryId, errorCode, error, nextAttemptAt.toISOString(), jsonOrNull(outcome)],
    );
  }

  /** Ends a delivery as failed (nothing to replay) or dead_lettered (kept in dead_letters). */
  async markFinalFailure(
    deliveryId: string,
    status: "failed" | "dead_lettered",
    errorCode: string,
    error: string,
    retryable: boolean,
    deadLetter?: DeadLetterRecord,
    outcome?: unknown,
  ): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query(
        `WITH moved AS (
           UPDATE deliveries SET status = $2::"DeliveryStatus", last_error = $4, last_error_code = $3, failed_at = now(),
                  next_attempt_at = NULL, outcome = COALESCE($6::jsonb, outcome), claimed_at = NULL, updated_at = now()
            WHERE id = $1 AND status = 'processing'
           RETURNING id, attempts)
         INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable)
         SELECT id, attempts, $3, $4, $5 FROM moved`,
        [deliveryId, status, errorCode, error, retryable, jsonOrNull(outcome)],
      );
      if (deadLetter) await insertDeadLetter(client, deadLetter);
    });
  }

  /** A message that names no delivery we can process: kept in dead_letters without touching deliveries. */
  async recordDeadLetter(record: DeadLetterRecord): Promise<void> {
    await insertDeadLetter(this.pool, record);
  }
}

/** A provider outcome as a jsonb parameter; undefined keeps what the delivery has. */
function jsonOrNull(outcome: unknown): string | null {
  return outcome === undefined ? null : JSON.stringify(outcome);
}

async function insertDeadLetter(client: Pick<Pool, "query">, r: DeadLetterRecord): Promise<void> {
  await client.query(
    `INSERT INTO dead_letters (id, delivery_id, request_id, channel, correlation_id, error_code, error, attempts,
                               routing_key, payload, headers)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      newId(),
      r.deliveryId,
      r.requestId,
      r.channel,
      r.correlationId,
      r.errorCode,
      r.error,
      r.attempts,
      r.routingKey,
      JSON.stringify(r.payload),
      JSON.stringify(r.headers),
    ],
  );
}
