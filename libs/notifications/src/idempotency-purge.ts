import type { Pool } from "pg";
import { PeriodicJob } from "@herald/jobs";
import type { Logger } from "@herald/logger";

/**
 * Deletes expired idempotency keys (their answers are no longer returned once expires_at has
 * passed) every intervalMs, by the expires_at index. Any number of gateways may run it: a DELETE
 * of rows another one is deleting only waits for it.
 */
export class IdempotencyPurge {
  private readonly job: PeriodicJob;

  constructor(pool: Pool, logger: Logger, intervalMs = 10 * 60_000) {
    this.job = new PeriodicJob({
      name: "idempotency purge",
      intervalMs,
      logger,
      run: async () => {
        await pool.query("DELETE FROM idempotency_keys WHERE expires_at < now()");
      },
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}
