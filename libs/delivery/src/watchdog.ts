import type { Logger } from "@herald/logger";

export interface WatchdogReport {
  stalled: boolean;
  /** Why it is stalled, for /health/ready and the log. */
  reason?: string;
}

/**
 * Notices a worker that holds messages and does nothing. Every provider call has a deadline and
 * every breaker trial a time limit, so this should never fire; it is the net under those: when
 * messages are in hand and none has made progress (a message settled, a provider call ended) for
 * longer than `stallAfterMs` (a message arriving starts its own window), the worker says so in /health/ready (503) and in the log, and the
 * supervisor restarts it. Time spent waiting for PostgreSQL to take an outcome does not count: the
 * outcome is in this process's memory, a restart would lose it, and readiness already says that
 * PostgreSQL is down.
 */
export class Watchdog {
  private lastProgress = Date.now();
  private warned = false;

  constructor(
    private readonly stallAfterMs: number,
    private readonly inHand: () => number,
    private readonly waitingForDatabase: () => boolean,
    private readonly logger: Logger,
  ) {}

  progress(): void {
    this.lastProgress = Date.now();
    if (this.warned) {
      this.warned = false;
      this.logger.info("worker makes progress again");
    }
  }

  check(): WatchdogReport {
    const held = this.inHand();
    if (held === 0 || this.waitingForDatabase()) {
      this.lastProgress = Date.now();
      return { stalled: false };
    }
    const idleMs = Date.now() - this.lastProgress;
    if (idleMs <= this.stallAfterMs) return { stalled: false };
    const reason = `${held} message(s) in hand and no progress for ${Math.round(idleMs / 1000)} s (limit ${Math.round(this.stallAfterMs / 1000)} s)`;
    if (!this.warned) {
      this.warned = true;
      this.logger.error("worker stalled; it should be restarted", { reason });
    }
    return { stalled: true, reason };
  }
}
