import type { Pool } from "pg";
import { Batcher, newId, prepared, type Channel, type DeliveryStatus, type Priority } from "@herald/db";
import { eventSourceColumns as EVENT_COLUMNS, statusEventsInsert as statusEvents } from "@herald/status-webhooks";

/**
 * The claim and the "sent" of a batch of deliveries. Both join the batch to deliveries by primary
 * key through unnest() of typed arrays, never jsonb_to_recordset(): PostgreSQL estimates an
 * unnest of a parameter at 10 rows and a jsonb_to_recordset() at 100, and with 100 it found a
 * sequential scan of deliveries cheaper than 100 index probes on any table under about 20,000 rows
 * (7 ms per claim on 8,000, on every claim of a small installation; bench steady phase).
 * Exported for the plan test (repository.int.test.ts).
 */
export const CLAIM_SQL = `UPDATE deliveries d
    SET status = 'processing', attempts = d.attempts + 1, claimed_at = now(), claimed_by = $5::uuid,
        provider = v.provider, updated_at = now()
   FROM unnest($1::uuid[], $2::"DeliveryStatus"[], $3::int[], $4::text[]) AS v(id, status, attempts, provider)
  WHERE d.id = v.id AND d.status = v.status AND d.attempts = v.attempts
RETURNING d.id`;

export const MARK_SENT_SQL = `WITH moved AS (
 UPDATE deliveries d SET status = 'sent', sent_at = now(), provider_message_id = v.provider_message_id,
        next_attempt_at = NULL, outcome = COALESCE(v.outcome, d.outcome), updated_at = now()
   FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[]) AS v(id, attempts, provider_message_id, outcome)
  WHERE d.id = v.id AND d.status = 'processing' AND d.attempts = v.attempts
RETURNING ${EVENT_COLUMNS("d")}),
 status_events AS (${statusEvents("moved")})
 SELECT id FROM moved`;

/** A delivery as a worker reads it before deciding what to do with a message. */
export interface LoadedDelivery {
  id: string;
  requestId: string;
  channel: Channel;
  priority: Priority;
  status: DeliveryStatus;
  /** Attempts started so far (the claim of the next one makes it attempts + 1). */
  attempts: number;
  templateVersionId: string | null;
  userId: string;
  variables: Record<string, unknown>;
  correlationId: string;
  /** The worker instance of the current claim, when it is `processing`. */
  claimedBy: string | null;
  /** The provider of the current (or last) attempt. */
  provider: string | null;
}

export type Loaded =
  | { kind: "missing" }
  /** Already sent, failed, dead-lettered, suppressed or cancelled: a duplicate message. */
  | { kind: "finished"; status: DeliveryStatus }
  /** Not released yet (scheduled, held): the scheduler publishes it when it is due. */
  | { kind: "not_due"; status: DeliveryStatus }
  /** queued or retrying: this message may claim it. */
  | { kind: "ready"; delivery: LoadedDelivery }
  /**
   * processing: an attempt was handed to the provider. `alive` when its worker instance still
   * beats (it is on the wire right now); otherwise that worker died during the call.
   */
  | { kind: "on_the_wire"; delivery: LoadedDelivery; alive: boolean };

/** A delivery this worker has claimed: its attempt number fences every later write. */
export interface ClaimedDelivery extends LoadedDelivery {
  /** This attempt's number (attempts including this one). */
  attempt: number;
}

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

export interface FailureRecord {
  errorCode: string;
  error: string;
  retryable: boolean;
  /** What the provider reported before failing (kept with the delivery). */
  outcome?: unknown;
}

interface LoadRow {
  id: string;
  request_id: string;
  channel: Channel;
  priority: Priority;
  status: DeliveryStatus;
  attempts: number;
  template_version_id: string | null;
  user_id: string;
  variables: Record<string, unknown>;
  correlation_id: string;
  claimed_by: string | null;
  provider: string | null;
  alive: boolean;
}

interface Claim {
  delivery: LoadedDelivery;
  provider: string;
}

interface SentRecord {
  delivery: ClaimedDelivery;
  providerMessageId: string | null;
  outcome: unknown;
}

/**
 * Every state change a worker makes to a delivery. Each write is one statement, conditional on the
 * state the worker read (status and attempt count), so two copies of one message, or a worker
 * that was presumed dead and is not, can never both move a delivery forward.
 *
 * The reads, claims and "sent" records of the messages in flight are batched into one statement
 * each (Batcher): at a few hundred mails a second, one round trip per message is what a worker
 * would otherwise spend its time on.
 */
export class DeliveryRepository {
  /**
   * Loads wait 2 ms for company: they come before the wait for a provider connection (with a
   * prefetch of dozens and a handful of connections, a message loaded now waits for a connection
   * anyway), so the window costs no throughput and gathers the messages of several acks.
   */
  private readonly loads = new Batcher<string, LoadRow | undefined>((ids) => this.loadMany(ids), { windowMs: 2 });
  private readonly claims = new Batcher<Claim, boolean>((claims) => this.claimMany(claims));
  /** "Sent" waits a little longer: only the ack waits for it, and it gathers more per statement. */
  private readonly sents = new Batcher<SentRecord, boolean>((rows) => this.markSentMany(rows), { windowMs: 10 });

  constructor(
    private readonly pool: Pool,
    /** This worker's instance: what its claims name, and whose claims it never takes for dead. */
    private readonly instanceId: string,
    private readonly deadAfterMs: number,
    private readonly leaseMs: number,
  ) {}

  async load(deliveryId: string): Promise<Loaded> {
    const row = await this.loads.call(deliveryId);
    if (!row) return { kind: "missing" };
    const delivery: LoadedDelivery = {
      id: row.id,
      requestId: row.request_id,
      channel: row.channel,
      priority: row.priority,
      status: row.status,
      attempts: row.attempts,
      templateVersionId: row.template_version_id,
      userId: row.user_id,
      variables: row.variables,
      correlationId: row.correlation_id,
      claimedBy: row.claimed_by,
      provider: row.provider,
    };
    switch (row.status) {
      case "queued":
      case "retrying":
        return { kind: "ready", delivery };
      case "processing":
        return { kind: "on_the_wire", delivery, alive: row.alive };
      case "scheduled":
      case "held":
        return { kind: "not_due", status: row.status };
      default:
        return { kind: "finished", status: row.status };
    }
  }

  /**
   * One SELECT for every message of this moment. `alive`: the claim's instance beat within
   * deadAfter and did not stop; a claim of this very instance that reaches here is not in flight
   * (the worker checks its own first), so it is not alive either; a claim that names no instance
   * (taken before instances existed) is alive within the lease.
   */
  private async loadMany(ids: string[]): Promise<(LoadRow | undefined)[]> {
    const { rows } = await this.pool.query<LoadRow>(
      prepared(
        `SELECT d.id, d.request_id, d.channel, d.priority, d.status, d.attempts, d.template_version_id, d.claimed_by, d.provider,
                r.user_id, COALESCE(d.variables, r.variables) AS variables, r.correlation_id,
                CASE WHEN d.claimed_by IS NULL THEN coalesce(d.claimed_at > now() - make_interval(secs => $3::float8 / 1000), false)
                     ELSE d.claimed_by <> $2::uuid AND coalesce(w.stopped_at IS NULL AND w.heartbeat_at > now() - make_interval(secs => $4::float8 / 1000), false)
                END AS alive
           FROM deliveries d
           JOIN notification_requests r ON r.id = d.request_id
           LEFT JOIN worker_instances w ON w.id = d.claimed_by
          WHERE d.id = ANY($1::uuid[])`,
        [[...new Set(ids)], this.instanceId, this.leaseMs, this.deadAfterMs],
      ),
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id));
  }

  /**
   * Claims a delivery right before its provider call: processing, attempts + 1, this instance,
   * this provider; only if it is still as it was read. False: another message got there first.
   * A claim is the hand-over to the provider, so a dead worker's claims are exactly the calls it
   * had on the wire.
   */
  async claim(delivery: LoadedDelivery, provider: string): Promise<ClaimedDelivery | undefined> {
    const claimed = await this.claims.call({ delivery, provider });
    return claimed ? { ...delivery, status: "processing", attempt: delivery.attempts + 1, claimedBy: this.instanceId, provider } : undefined;
  }

  private async claimMany(claims: Claim[]): Promise<boolean[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      prepared(CLAIM_SQL, [
        claims.map((c) => c.delivery.id),
        claims.map((c) => c.delivery.status),
        claims.map((c) => c.delivery.attempts),
        claims.map((c) => c.provider),
        this.instanceId,
      ]),
    );
    const won = new Set(rows.map((row) => row.id));
    // Two copies of one message in the same batch: only the first gets the claim.
    return claims.map((c) => won.delete(c.delivery.id));
  }

  /** Gives a claim back without counting the attempt (the breaker refused the call after all). */
  async unclaim(delivery: ClaimedDelivery): Promise<void> {
    await this.pool.query(
      `UPDATE deliveries
          SET status = CASE WHEN attempts > 1 THEN 'retrying'::"DeliveryStatus" ELSE 'queued'::"DeliveryStatus" END,
              attempts = attempts - 1, claimed_at = NULL, claimed_by = NULL, updated_at = now()
        WHERE id = $1 AND status = 'processing' AND attempts = $2`,
      [delivery.id, delivery.attempt],
    );
  }

  /** processing -> sent, for this attempt; false when the attempt is no longer this worker's. */
  markSent(delivery: ClaimedDelivery, providerMessageId: string | null, outcome?: unknown): Promise<boolean> {
    return this.sents.call({ delivery, providerMessageId, outcome: outcome ?? null });
  }

  private async markSentMany(records: SentRecord[]): Promise<boolean[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      prepared(MARK_SENT_SQL, [
        records.map((r) => r.delivery.id),
        records.map((r) => r.delivery.attempt),
        records.map((r) => r.providerMessageId),
        records.map((r) => (r.outcome === null ? null : JSON.stringify(r.outcome))),
      ]),
    );
    const recorded = new Set(rows.map((row) => row.id));
    return records.map((r) => recorded.has(r.delivery.id));
  }

  /** The user turned the channel off before it was sent: the later choice wins. */
  async markSuppressed(delivery: LoadedDelivery, reason: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `WITH moved AS (
       UPDATE deliveries SET status = 'suppressed', last_error = $4, last_error_code = 'suppressed', updated_at = now()
        WHERE id = $1 AND status = $2 AND attempts = $3
      RETURNING ${EVENT_COLUMNS()}),
       status_events AS (${statusEvents("moved")})
       SELECT id FROM moved`,
      [delivery.id, delivery.status, delivery.attempts, reason],
    );
    return rowCount === 1;
  }

  /**
   * One provider of this attempt failed and the next takes over: the failed call as an attempt row
   * (same attempt number, its provider), and the delivery's provider is the next one; false if the
   * attempt is no longer ours.
   */
  async failover(delivery: ClaimedDelivery, failure: FailureRecord, next: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ moved: number }>(
      `WITH moved AS (
         UPDATE deliveries SET provider = $6, last_error = $4, last_error_code = $3, updated_at = now()
          WHERE id = $1 AND status = 'processing' AND attempts = $2
         RETURNING id, attempts),
       logged AS (
         INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, provider)
         SELECT id, attempts, $3, $4, true, $5 FROM moved)
       SELECT count(*)::int AS moved FROM moved`,
      [delivery.id, delivery.attempt, failure.errorCode, pgText(failure.error), delivery.provider, next],
    );
    return rows[0]?.moved === 1;
  }

  /** processing -> retrying, with the failed attempt in delivery_attempts; false if no longer ours. */
  async markRetrying(delivery: ClaimedDelivery, failure: FailureRecord, nextAttemptAt: Date): Promise<boolean> {
    const { rows } = await this.pool.query<{ moved: number }>(
      `WITH moved AS (
         UPDATE deliveries SET status = 'retrying', last_error = $4, last_error_code = $3, next_attempt_at = $6,
                outcome = COALESCE($7::jsonb, outcome), claimed_at = NULL, claimed_by = NULL, updated_at = now()
          WHERE id = $1 AND status = 'processing' AND attempts = $2
         RETURNING ${EVENT_COLUMNS()}),
       logged AS (
         INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, provider)
         SELECT id, attempts, $3, $4, $5, $8 FROM moved),
       status_events AS (${statusEvents("moved")})
       SELECT count(*)::int AS moved FROM moved`,
      [delivery.id, delivery.attempt, failure.errorCode, pgText(failure.error), failure.retryable, nextAttemptAt.toISOString(), jsonOrNull(failure.outcome), delivery.provider],
    );
    return rows[0]?.moved === 1;
  }

  /**
   * Ends this attempt as failed (nothing to replay) or dead_lettered, with its attempt row and, for
   * a dead letter, the dead_letters row, in one statement: a delivery that is no longer at this
   * attempt is left alone and gets no dead letter, so none is ever dead-lettered twice.
   */
  async markFinal(
    delivery: Pick<ClaimedDelivery, "id" | "attempt" | "provider">,
    status: "failed" | "dead_lettered",
    failure: FailureRecord,
    deadLetter?: DeadLetterRecord,
  ): Promise<boolean> {
    const dl = deadLetter ?? null;
    const { rows } = await this.pool.query<{ moved: number }>(
      `WITH moved AS (
         UPDATE deliveries SET status = $3::"DeliveryStatus", last_error = $5, last_error_code = $4, failed_at = now(),
                next_attempt_at = NULL, outcome = COALESCE($7::jsonb, outcome), claimed_at = NULL, updated_at = now()
          WHERE id = $1 AND status = 'processing' AND attempts = $2
         RETURNING ${EVENT_COLUMNS()}),
       logged AS (
         INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, provider)
         SELECT id, attempts, $4, $5, $6, $8 FROM moved),
       status_events AS (${statusEvents("moved")}),
       kept AS (
         INSERT INTO dead_letters (id, delivery_id, request_id, channel, correlation_id, error_code, error, attempts,
                                   routing_key, payload, headers)
         SELECT $9::uuid, moved.id, $10::uuid, $11, $12, $4, $5, moved.attempts, $13, $14::jsonb, $15::jsonb
           FROM moved WHERE $9::uuid IS NOT NULL)
       SELECT count(*)::int AS moved FROM moved`,
      [
        delivery.id,
        delivery.attempt,
        status,
        failure.errorCode,
        pgText(failure.error),
        failure.retryable,
        jsonOrNull(failure.outcome),
        delivery.provider,
        dl ? newId() : null,
        dl?.requestId ?? null,
        dl?.channel ?? null,
        dl?.correlationId ?? null,
        dl?.routingKey ?? null,
        dl ? pgJson(dl.payload) : null,
        dl ? pgJson(dl.headers) : null,
      ],
    );
    return rows[0]?.moved === 1;
  }

  /** A message that names no delivery we can process: kept in dead_letters without touching deliveries. */
  async recordDeadLetter(r: DeadLetterRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO dead_letters (id, delivery_id, request_id, channel, correlation_id, error_code, error, attempts,
                                 routing_key, payload, headers)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [newId(), r.deliveryId, r.requestId, r.channel && pgText(r.channel), r.correlationId && pgText(r.correlationId), r.errorCode, pgText(r.error), r.attempts, r.routingKey && pgText(r.routingKey), pgJson(r.payload), pgJson(r.headers)],
    );
  }
}

/** A provider outcome as a jsonb parameter; undefined keeps what the delivery has. */
function jsonOrNull(outcome: unknown): string | null {
  return outcome === undefined ? null : pgJson(outcome);
}

/**
 * Text PostgreSQL can store: it refuses NUL in text and jsonb, and a poison message or a
 * provider's error may carry one; an outcome that cannot be stored would never be recorded.
 */
function pgText(text: string): string {
  return text.replaceAll("\u0000", "\uFFFD");
}

function pgJson(value: unknown): string {
  return JSON.stringify(value).replace(/\\u0000/g, "\\uFFFD");
}
