import type { Pool } from "pg";
import { withTransaction, type Channel, type Priority } from "@herald/db";
import { PeriodicJob, type JobContext } from "@herald/jobs";
import type { Logger } from "@herald/logger";
import { releaseToOutbox, type OutboxPublisher, type StoredOutgoing } from "@herald/messaging";
import { releaseDueDigests, type DigestRelease } from "./digest";

export interface DeliverySchedulerOptions {
  /** SCHEDULER_INTERVAL: how often due deliveries are looked for. */
  intervalMs: number;
  /** The most deliveries one transaction releases. */
  batchSize?: number;
  /** Called with each pass's released digest windows (metrics). */
  onDigests?: (release: DigestRelease) => void;
}

/**
 * Releases scheduled (send_at) and held (quiet hours) deliveries when their release_at has come,
 * and digest windows that have closed (releaseDueDigests: one delivery per window, quiet hours
 * decided then; a carrier held by them is released by the next passes like any held delivery).
 * They wait in PostgreSQL, not in the broker, so they survive any restart. Each pass, in one
 * transaction, locks due rows with FOR UPDATE SKIP LOCKED, then marks them queued and writes their
 * outbox messages in one statement (releaseToOutbox); after the commit it publishes them (the outbox relay covers a crash in between).
 * Several gateways can run it at once: a row locked by one is skipped by the others.
 *
 * Preferences are checked again by the worker at send time; quiet hours are not (the release
 * time was computed when the send was accepted).
 */
export class DeliveryScheduler {
  private readonly job: PeriodicJob;
  private readonly batchSize: number;

  constructor(
    private readonly pool: Pool,
    private readonly outbox: OutboxPublisher,
    private readonly logger: Logger,
    private readonly options: DeliverySchedulerOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.job = new PeriodicJob({
      name: "scheduler",
      intervalMs: options.intervalMs,
      firstRunAfterMs: 0,
      logger,
      run: async (context) => {
        await this.runOnce(context);
      },
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /**
   * Releases everything due now, batch after batch; returns how many deliveries were released.
   * Run by the job, a pass that is being stopped ends after its current batch.
   */
  async runOnce(context: JobContext = { stopping: false }): Promise<number> {
    let total = 0;
    for (;;) {
      const release = await withTransaction(this.pool, (client) => releaseDueDigests(client, this.batchSize));
      if (release.windows === 0) break;
      this.options.onDigests?.(release);
      total += release.stored.length;
      if (release.stored.length > 0) await this.outbox.publish(release.stored);
      if (release.windows < this.batchSize || context.stopping) break;
    }
    for (;;) {
      const released = await this.releaseBatch();
      total += released.length;
      if (released.length > 0) await this.outbox.publish(released);
      if (released.length < this.batchSize || context.stopping) break;
    }
    if (total > 0) this.logger.info("scheduler released deliveries", { count: total });
    return total;
  }

  private releaseBatch(): Promise<StoredOutgoing[]> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ id: string; request_id: string; channel: Channel; priority: Priority; correlation_id: string }>(
        `SELECT d.id, d.request_id, d.channel, d.priority, r.correlation_id
           FROM deliveries d JOIN notification_requests r ON r.id = d.request_id
          WHERE d.status IN ('scheduled', 'held') AND d.release_at <= now()
          ORDER BY d.release_at
          LIMIT $1
          FOR UPDATE OF d SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) return [];
      const stored = await releaseToOutbox(
        client,
        rows.map((r) => ({ deliveryId: r.id, requestId: r.request_id, channel: r.channel, correlationId: r.correlation_id, priority: r.priority })),
        { statements: [`UPDATE deliveries SET status = 'queued', updated_at = now() WHERE id = ANY($1::uuid[])`], params: [rows.map((r) => r.id)] },
      );
      return stored;
    });
  }
}
