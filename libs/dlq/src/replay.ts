import type { Pool, PoolClient } from "pg";
import { recordAuditSql, type Actor } from "@herald/audit";
import { AppError } from "@herald/errors";
import { isUuid, withTransaction, type Channel, type Priority } from "@herald/db";
import type { Logger } from "@herald/logger";
import { releaseToOutbox, type OutboxPublisher, type StoredOutgoing } from "@herald/messaging";
import type { RateLimitDecision } from "@herald/resilience";
import type { BulkReplayInput, DeadLetterFilter } from "./schemas";

/** What a replay answers for one dead letter. */
export interface ReplayAnswer {
  id: string;
  delivery_id: string;
  request_id: string;
  channel: Channel;
  /** The delivery's status after the replay: queued. */
  delivery_status: "queued";
  replayed_at: string;
  replay_count: number;
}

export interface BulkReplayAnswer {
  /** Deliveries put back in their queue by this call. */
  replayed: number;
  /** Matching dead letters still waiting for a replay (call again to continue). */
  remaining: number;
}

/** The shared budget of bulk replays (a Redis fixed window of one second). */
export interface ReplayBudget {
  consume(key: string, points: number): Promise<RateLimitDecision>;
}

export interface ReplayerOptions {
  /** DLQ_REPLAY_RATE: dead letters replayed per second at most, across every gateway. */
  ratePerSecond: number;
  /** A bulk replay call stops after this long and reports what remains. */
  maxDurationMs?: number;
}

interface Moved {
  id: string;
  request_id: string;
  channel: Channel;
  priority: Priority;
  correlation_id: string;
}

interface Replayed {
  moved: Moved[];
  marked: { id: string; delivery_id: string; replayed_at: Date; replay_count: number }[];
  stored: StoredOutgoing[];
}

const BATCH = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Puts dead-lettered deliveries back in their queue, inside the caller's transaction: each
 * delivery still dead_lettered goes back to queued with its attempts reset, gets an outbox message
 * (same request id and correlation id, its priority), and every open dead letter of it is marked
 * replayed. A delivery that is no longer dead_lettered (replayed already, queued, sent) is left
 * alone: that conditional update is what makes a replay idempotent, even when two race.
 */
async function replayLocked(client: PoolClient, deadLetterIds: string[]): Promise<Replayed> {
  const { rows: moved } = await client.query<Moved>(
    `UPDATE deliveries d
        SET status = 'queued', attempts = 0, claimed_at = NULL, claimed_by = NULL, next_attempt_at = NULL, failed_at = NULL, updated_at = now()
       FROM notification_requests r
      WHERE d.id IN (SELECT delivery_id FROM dead_letters WHERE id = ANY($1::uuid[]))
        AND d.status = 'dead_lettered' AND r.id = d.request_id
    RETURNING d.id, d.request_id, d.channel, d.priority, r.correlation_id`,
    [deadLetterIds],
  );
  if (moved.length === 0) return { moved, marked: [], stored: [] };
  const movedIds = moved.map((m) => m.id);
  const { rows: marked } = await client.query<Replayed["marked"][number]>(
    `UPDATE dead_letters SET replayed_at = now(), replay_count = replay_count + 1
      WHERE delivery_id = ANY($2::uuid[]) AND (id = ANY($1::uuid[]) OR replayed_at IS NULL)
    RETURNING id, delivery_id, replayed_at, replay_count`,
    [deadLetterIds, movedIds],
  );
  const stored = await releaseToOutbox(
    client,
    moved.map((m) => ({ deliveryId: m.id, requestId: m.request_id, channel: m.channel, correlationId: m.correlation_id, priority: m.priority })),
  );
  return { moved, marked, stored };
}

/** SQL conditions of a bulk replay: open dead letters of dead-lettered deliveries, filtered. */
function matching(filter: DeadLetterFilter): { clause: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = ["dl.replayed_at IS NULL", "d.status = 'dead_lettered'"];
  const add = (column: string, op: string, value: unknown) => {
    params.push(value);
    parts.push(`${column} ${op} $${params.length}`);
  };
  if (filter.channel) add("dl.channel", "=", filter.channel);
  if (filter.error_code) add("dl.error_code", "=", filter.error_code);
  if (filter.from) add("dl.created_at", ">=", filter.from);
  if (filter.to) add("dl.created_at", "<", filter.to);
  return { clause: parts.join(" AND "), params };
}

/**
 * Replays dead letters through the outbox: the reset and the outbox row commit together, then
 * the message is published with a broker confirm (the outbox relay republishes it if that fails),
 * so a replay is never lost. It never depends on failed.queue.
 */
export class DeadLetterReplayer {
  constructor(
    private readonly pool: Pool,
    private readonly outbox: OutboxPublisher,
    private readonly budget: ReplayBudget,
    private readonly logger: Logger,
    private readonly options: ReplayerOptions,
  ) {}

  /** Replays one dead letter: 404 unknown, 409 not_replayable / already_replayed. */
  async replay(id: string, actor: Actor): Promise<ReplayAnswer> {
    if (!isUuid(id)) throw AppError.notFound("Dead letter");
    const replayed = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ delivery_id: string | null }>("SELECT delivery_id FROM dead_letters WHERE id = $1 FOR UPDATE", [id]);
      const row = rows[0];
      if (!row) throw AppError.notFound("Dead letter");
      if (!row.delivery_id) {
        throw new AppError("not_replayable", "This dead letter names no delivery (its message could not be read): there is nothing to replay");
      }
      const result = await replayLocked(client, [id]);
      if (result.moved.length > 0) {
        const mark = result.marked.find((m) => m.id === id);
        await recordAuditSql(client, actor, {
          action: "dlq.replay",
          target: { type: "dead_letter", id },
          before: { delivery_id: row.delivery_id, delivery_status: "dead_lettered" },
          after: { delivery_id: row.delivery_id, delivery_status: "queued", replay_count: mark?.replay_count ?? null },
        });
        return result;
      }
      const { rows: current } = await client.query<{ status: string }>("SELECT status FROM deliveries WHERE id = $1", [row.delivery_id]);
      const status = current[0]?.status;
      if (!status) throw new AppError("not_replayable", "The delivery of this dead letter no longer exists");
      throw new AppError("already_replayed", `The delivery is ${status}, no longer dead_lettered: it was replayed already and is not sent twice`, [
        { field: "id", message: `delivery status is ${status}`, delivery_status: status },
      ]);
    });
    await this.outbox.publish(replayed.stored);
    const delivery = replayed.moved[0]!;
    const mark = replayed.marked.find((m) => m.id === id)!;
    this.logger.info("dead letter replayed", { dead_letter_id: id, delivery_id: delivery.id, correlation_id: delivery.correlation_id });
    return {
      id,
      delivery_id: delivery.id,
      request_id: delivery.request_id,
      channel: delivery.channel,
      delivery_status: "queued",
      replayed_at: mark.replayed_at.toISOString(),
      replay_count: mark.replay_count,
    };
  }

  /**
   * Replays the open dead letters that match, oldest first, in batches paced to the replay rate,
   * until `limit` are replayed, none match, or the call has run for maxDurationMs.
   */
  async replayMatching(input: BulkReplayInput, actor: Actor): Promise<BulkReplayAnswer> {
    const deadline = Date.now() + (this.options.maxDurationMs ?? 20_000);
    const { clause, params } = matching(input);
    let replayed = 0;
    while (replayed < input.limit) {
      // Budget only for what is there: a call with nothing to replay answers at once, and
      // concurrent calls do not queue behind each other's unused budget.
      const wanted = Math.min(BATCH, this.options.ratePerSecond, input.limit - replayed);
      const { rows: waiting } = await this.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id WHERE ${clause} LIMIT $${params.length + 1}) w`,
        [...params, wanted],
      );
      const size = waiting[0]?.n ?? 0;
      if (size === 0) break;
      if (!(await this.pace(size, deadline))) break;
      const batch = await withTransaction(this.pool, async (client) => {
        const { rows } = await client.query<{ id: string }>(
          `SELECT dl.id FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id
            WHERE ${clause} ORDER BY dl.id LIMIT $${params.length + 1} FOR UPDATE OF dl SKIP LOCKED`,
          [...params, size],
        );
        const result = await replayLocked(client, rows.map((r) => r.id));
        if (result.moved.length > 0) {
          const { limit: _limit, ...filter } = input;
          await recordAuditSql(client, actor, {
            action: "dlq.replay_bulk",
            target: { type: "dead_letters", id: JSON.stringify(filter) },
            after: { replayed: result.moved.length, dead_letter_ids: result.marked.map((m) => m.id), delivery_ids: result.moved.map((m) => m.id) },
          });
        }
        return { selected: rows.length, ...result };
      });
      await this.outbox.publish(batch.stored);
      replayed += batch.moved.length;
      if (batch.moved.length > 0) this.logger.info("dead letters replayed", { count: batch.moved.length, filter: input });
      if (batch.selected < size || batch.moved.length === 0) break;
    }
    const { rows } = await this.pool.query<{ remaining: number }>(
      `SELECT count(*)::int AS remaining FROM dead_letters dl JOIN deliveries d ON d.id = dl.delivery_id WHERE ${clause}`,
      params,
    );
    return { replayed, remaining: rows[0]?.remaining ?? 0 };
  }

  /** Waits until `points` replays fit in the shared per-second budget; false if not before the deadline. */
  private async pace(points: number, deadline: number): Promise<boolean> {
    for (;;) {
      const decision = await this.budget.consume("replay", points);
      if (decision.allowed) return true;
      if (Date.now() + decision.resetMs > deadline) return false;
      await sleep(Math.max(decision.resetMs, 10));
    }
  }
}
