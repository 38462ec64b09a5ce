import type { Pool, PoolClient } from "pg";
import { TERMINAL_STATUSES, withTransaction } from "@herald/db";
import { PeriodicJob } from "@herald/jobs";
import type { Logger } from "@herald/logger";

export interface RetentionOptions {
  /** RETENTION_DAYS: notifications older than this go; 0 keeps everything (the job never runs). */
  days: number;
  /** RETENTION_BATCH_SIZE: the most notifications (and, apart, orphan dead letters) one transaction deletes. */
  batchSize: number;
  /** RETENTION_INTERVAL: the wait between sweeps; a sweep that filled its batch goes on at once. */
  intervalMs: number;
  /** Called after each batch (metrics): rows deleted per table, and how long the batch took. */
  onBatch?: (deleted: RetentionDeleted, seconds: number) => void;
}

/** Rows one batch deleted, per table. */
export interface RetentionDeleted {
  notification_requests: number;
  deliveries: number;
  delivery_attempts: number;
  dead_letters: number;
}

export interface RetentionBatch {
  deleted: RetentionDeleted;
  /** The batch was full: more may be waiting, and the next batch runs at once. */
  more: boolean;
  /** Another process holds the retention lock: it is sweeping, this one did nothing. */
  skipped: boolean;
}

/**
 * pg_try_advisory_xact_lock's key of the sweep, in the two-int4 key space (the digest's per-key
 * locks use the one-bigint space, which never overlaps it): "HRLD", 1.
 */
const LOCK = [0x48524c44, 1] as const;

const none = (): RetentionDeleted => ({ notification_requests: 0, deliveries: 0, delivery_attempts: 0, dead_letters: 0 });

const cutoff = "now() - make_interval(days => $1::int)";

/** Whether delivery `d` keeps its notification by itself: not finished, or changed since the cutoff ($1 days, $2 TERMINAL_STATUSES). */
const keeps = (d: string) => `(${d}.status <> ALL($2::"DeliveryStatus"[]) OR ${d}.updated_at >= ${cutoff})`;

/**
 * One batch's notifications ($1 days, $2 TERMINAL_STATUSES, $3 batch size), locked: the oldest
 * first through the created_at index, each one's deliveries through the request_id index (a
 * request's row of the LATERAL exists only if none of them keeps it). The LATERAL aggregate keeps the planner from turning the check into a hash anti join over every
 * delivery (what it picks, a hundred times slower, when much of the table is past the cutoff, as
 * on the first sweeps of a big database). Each IN (subquery) is a hashed subplan built once per
 * statement: the outbox and the open digest windows are small tables without an index on these
 * columns. Exported for the plan test.
 */
export const PICK_SQL = `SELECT r.id FROM notification_requests r
  CROSS JOIN LATERAL (
        SELECT FROM deliveries d WHERE d.request_id = r.id
        HAVING bool_or(${keeps("d")}
                       OR d.id IN (SELECT w.carrier_delivery_id FROM digest_windows w)
                       OR d.id::text IN (SELECT o.payload->>'delivery_id' FROM outbox o)
                       OR EXISTS (SELECT 1 FROM deliveries f WHERE f.digest_delivery_id = d.id AND f.request_id <> d.request_id)) IS NOT TRUE) k
  WHERE r.created_at < ${cutoff}
  ORDER BY r.created_at
  LIMIT $3
  FOR UPDATE OF r SKIP LOCKED`;

/**
 * Dead letters older than the cutoff ($1 days) whose delivery no longer exists or never did (a
 * NULL delivery_id matches no delivery), oldest first, at most $2, locked. The scalar subquery is
 * one primary-key probe per dead letter looked at (a NOT EXISTS may become a hash of every
 * delivery). Exported for the plan test.
 */
export const ORPHANS_SQL = `SELECT x.id FROM dead_letters x
  WHERE x.created_at < ${cutoff} AND (SELECT d.id FROM deliveries d WHERE d.id = x.delivery_id) IS NULL
  ORDER BY x.created_at
  LIMIT $2
  FOR UPDATE OF x SKIP LOCKED`;

/**
 * Keeps the per-notification tables bounded: deletes, oldest first and a batch per transaction,
 * notifications older than RETENTION_DAYS together with their deliveries, failed attempts and dead
 * letters, then dead letters older than the cutoff whose delivery is already gone (or that never
 * had one: a poison message).
 *
 * A notification goes only when nothing can still happen to it: every delivery is terminal
 * (TERMINAL_STATUSES) and unchanged since the cutoff (a replay, say, keeps it), none is the carrier
 * of an open digest window or of deliveries of another notification that are still kept (those go
 * first, so the digest reads whole until then), and none has a message in the outbox. Pending,
 * scheduled, held, processing, retrying and digesting deliveries are never touched. The check is
 * made twice: once to pick the batch (through notification_requests' created_at index), and again
 * on the delivery rows after locking them (FOR UPDATE SKIP LOCKED), so a delivery that a worker or
 * a replay holds or has just changed keeps its notification for a later sweep.
 *
 * Dead letters of a notification that is kept stay with it (they are part of its timeline and the
 * replay of its delivery); they go with the notification. Status webhook events are not deleted
 * here: they carry their own copy of what they report, and the dispatcher purges finished ones
 * after STATUS_WEBHOOK_RETENTION (pending ones must still be posted).
 *
 * One process sweeps at a time, across every gateway: each batch transaction first takes
 * pg_try_advisory_xact_lock, and a process that does not get it skips this sweep (no waiting, no
 * deadlock, no work done twice). Statements delete children before parents, by the indexes the
 * foreign keys already have.
 */
export class RetentionJob {
  private readonly job: PeriodicJob;

  constructor(
    private readonly pool: Pool,
    private readonly logger: Pick<Logger, "info" | "warn">,
    private readonly options: RetentionOptions,
  ) {
    this.job = new PeriodicJob({
      name: "retention",
      intervalMs: options.intervalMs,
      logger,
      run: async () => (await this.runBatch()).more,
    });
  }

  get enabled(): boolean {
    return this.options.days > 0;
  }

  /** Starts the sweeps (the first after intervalMs); nothing when RETENTION_DAYS is 0. */
  start(): void {
    if (this.enabled) this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One batch in one transaction: at most batchSize notifications, then orphan dead letters. */
  async runBatch(): Promise<RetentionBatch> {
    if (!this.enabled) return { deleted: none(), more: false, skipped: false };
    const started = process.hrtime.bigint();
    const batch = await withTransaction(this.pool, async (client): Promise<RetentionBatch> => {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock($1, $2) AS locked", [...LOCK]);
      if (!rows[0]?.locked) return { deleted: none(), more: false, skipped: true };
      // The statements' estimated costs pass jit_above_cost on a big table; compiling them costs
      // seconds for a batch that runs in milliseconds.
      await client.query("SET LOCAL jit = off");
      const deleted = none();
      const picked = await this.deleteNotifications(client, deleted);
      const orphans = await this.deleteOrphanDeadLetters(client);
      deleted.dead_letters += orphans;
      return { deleted, more: picked >= this.options.batchSize || orphans >= this.options.batchSize, skipped: false };
    });
    if (!batch.skipped) {
      this.options.onBatch?.(batch.deleted, Number(process.hrtime.bigint() - started) / 1e9);
      const total = (Object.values(batch.deleted) as number[]).reduce((a, b) => a + b, 0);
      if (total > 0) this.logger.info("retention deleted old rows", { ...batch.deleted, days: this.options.days });
    }
    return batch;
  }

  /** Batches until one is not full (or another process holds the lock); returns the rows deleted. */
  async runOnce(): Promise<RetentionDeleted> {
    const total = none();
    for (;;) {
      const batch = await this.runBatch();
      for (const table of Object.keys(total) as (keyof RetentionDeleted)[]) total[table] += batch.deleted[table];
      if (!batch.more) return total;
    }
  }

  /** Picks, re-checks under lock and deletes one batch of notifications; returns how many were picked. */
  private async deleteNotifications(client: PoolClient, deleted: RetentionDeleted): Promise<number> {
    const { rows: candidates } = await client.query<{ id: string }>(PICK_SQL, [this.options.days, TERMINAL_STATUSES, this.options.batchSize]);
    if (candidates.length === 0) return 0;
    const ids = candidates.map((c) => c.id);
    // Under lock, as they are now: a delivery locked by someone else, or changed since the pick,
    // keeps its notification.
    const { rows: kept } = await client.query<{ request_id: string }>(
      `WITH locked AS (
         SELECT d.id, d.status, d.updated_at FROM deliveries d WHERE d.request_id = ANY($3::uuid[]) FOR UPDATE SKIP LOCKED)
       SELECT DISTINCT d.request_id FROM deliveries d LEFT JOIN locked l ON l.id = d.id
        WHERE d.request_id = ANY($3::uuid[]) AND (l.id IS NULL OR ${keeps("l")})`,
      [this.options.days, TERMINAL_STATUSES, ids],
    );
    const keep = new Set(kept.map((k) => k.request_id));
    const gone = ids.filter((id) => !keep.has(id));
    if (gone.length > 0) {
      const ofThem = "SELECT id FROM deliveries WHERE request_id = ANY($1::uuid[])";
      deleted.dead_letters += (await client.query(`DELETE FROM dead_letters WHERE delivery_id IN (${ofThem})`, [gone])).rowCount ?? 0;
      deleted.delivery_attempts += (await client.query(`DELETE FROM delivery_attempts WHERE delivery_id IN (${ofThem})`, [gone])).rowCount ?? 0;
      deleted.deliveries += (await client.query("DELETE FROM deliveries WHERE request_id = ANY($1::uuid[])", [gone])).rowCount ?? 0;
      deleted.notification_requests += (await client.query("DELETE FROM notification_requests WHERE id = ANY($1::uuid[])", [gone])).rowCount ?? 0;
    }
    return candidates.length;
  }

  /** Dead letters older than the cutoff whose delivery no longer exists (or never did). */
  private async deleteOrphanDeadLetters(client: PoolClient): Promise<number> {
    const result = await client.query(`DELETE FROM dead_letters WHERE id IN (${ORPHANS_SQL})`, [this.options.days, this.options.batchSize]);
    return result.rowCount ?? 0;
  }
}
