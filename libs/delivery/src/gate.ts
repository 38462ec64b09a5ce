import { isDatabaseUnavailable } from "@herald/db";
import type { Logger } from "@herald/logger";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether PostgreSQL answers this worker, and what to do while it does not. An outcome that
 * happened (the provider accepted a mail, or refused it) is kept and written again and again until
 * PostgreSQL has it, however long that takes; meanwhile the worker takes no new work (onDown/onUp
 * hold and release its consumer). Other errors are retried too (persist).
 */
export class DatabaseGate {
  private downSince: number | undefined;
  /** Outcomes waiting for PostgreSQL right now. */
  private waiting = 0;

  constructor(
    private readonly ping: () => Promise<unknown>,
    private readonly retryMs: number,
    private readonly logger: Logger,
    private readonly onDown: () => void,
    private readonly onUp: () => void,
  ) {}

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** Outcomes held in memory until PostgreSQL is back. */
  get held(): number {
    return this.waiting;
  }

  /**
   * Runs `write` until it succeeds. An outcome that happened must be recorded, so no error gives
   * up: a failure to reach PostgreSQL closes the gate until it answers; any other error (which
   * should not happen: a bug, a constraint) is logged and the write tried again after a pause that
   * grows to a minute, with the message still unacked and `outcomes_waiting_for_postgres` showing it.
   */
  async persist<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries += 1) {
      try {
        const result = await write();
        this.up();
        return result;
      } catch (error) {
        this.waiting += 1;
        try {
          if (isDatabaseUnavailable(error)) {
            this.down(error);
            if (tries === 1) this.logger.warn("PostgreSQL is away; keeping the outcome until it is back", { outcome: what, error: String(error) });
            await this.waitUp();
          } else {
            if (tries === 1 || tries % 10 === 0) this.logger.error("could not record an outcome; trying again", { outcome: what, tries, error: String(error) });
            await sleep(Math.min(this.retryMs * 2 ** Math.min(tries, 10), 60_000));
          }
        } finally {
          this.waiting -= 1;
        }
      }
    }
  }

  /** Whether `error` means PostgreSQL is away; if so the gate closes (the caller gives the work back). */
  failed(error: unknown): boolean {
    if (!isDatabaseUnavailable(error)) return false;
    this.down(error);
    return true;
  }

  private down(error: unknown): void {
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.logger.error("PostgreSQL unreachable; taking no new work until it answers", { error: String(error) });
    this.onDown();
    void this.probe();
  }

  private up(): void {
    if (this.downSince === undefined) return;
    this.logger.info("PostgreSQL answers again; taking work", { down_ms: Date.now() - this.downSince });
    this.downSince = undefined;
    this.onUp();
  }

  /** While down: ping until PostgreSQL answers, then open. */
  private async probe(): Promise<void> {
    while (this.downSince !== undefined) {
      await sleep(this.retryMs);
      try {
        await this.ping();
        this.up();
      } catch {
        // still away
      }
    }
  }

  private async waitUp(): Promise<void> {
    while (this.downSince !== undefined) await sleep(this.retryMs);
  }
}
