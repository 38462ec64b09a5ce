import os from "node:os";
import type { Pool } from "pg";
import { newId } from "@herald/db";
import type { Logger } from "@herald/logger";

/**
 * This worker process as a row of worker_instances, with a heartbeat. Every claim names its
 * instance; a worker that meets a claim of an instance whose heartbeat stopped (killed, frozen,
 * gone with its machine) decides the delivery at once instead of waiting out a lease. A graceful
 * stop marks the row stopped, so its (by then recorded) claims are never mistaken for live ones.
 *
 * A beat that fails (PostgreSQL away) is simply tried again at the next interval: the claims of
 * this instance cannot be decided by anyone while PostgreSQL is away either.
 */
export class WorkerInstance {
  readonly id = newId();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly service: string,
    private readonly intervalMs: number,
    /** What the instance reports of itself (queue, consuming, in flight, breakers, ready). */
    private readonly info: () => Record<string, unknown>,
    private readonly logger: Logger,
  ) {}

  async register(): Promise<void> {
    // Instances long gone are of no use to anyone (a claim naming a missing instance is a dead one).
    await this.pool.query(`DELETE FROM worker_instances WHERE heartbeat_at < now() - interval '1 day'`);
    await this.pool.query(
      `INSERT INTO worker_instances (id, service, host, pid, info) VALUES ($1, $2, $3, $4, $5::jsonb)`,
      [this.id, this.service, os.hostname(), process.pid, JSON.stringify(this.info())],
    );
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  /** One heartbeat now (also what the interval runs); never throws. */
  beat(): Promise<void> {
    this.beating ??= this.pool
      .query(`UPDATE worker_instances SET heartbeat_at = now(), info = $2::jsonb WHERE id = $1`, [this.id, JSON.stringify(this.info())])
      .then(
        () => undefined,
        (error: unknown) => {
          this.logger.debug("heartbeat not written", { error: String(error) });
        },
      )
      .finally(() => (this.beating = undefined));
    return this.beating;
  }

  /** After a graceful stop: nothing of this instance is in flight any more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.pool
      .query(`UPDATE worker_instances SET stopped_at = now(), heartbeat_at = now(), info = $2::jsonb WHERE id = $1`, [
        this.id,
        JSON.stringify(this.info()),
      ])
      .catch((error: unknown) => this.logger.warn("could not mark the worker instance stopped", { error: String(error) }));
  }
}
