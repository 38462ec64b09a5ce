/** What a job logs with: a failed run is one warning line (any winston logger fits). */
export interface JobLogger {
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

/** What a run sees: whether the job is being stopped (a run that loops over batches ends early). */
export interface JobContext {
  readonly stopping: boolean;
}

export interface PeriodicJobOptions {
  /** Named in the warning of a failed run: "<name> pass failed". */
  name: string;
  /** The wait between the end of one run and the start of the next. */
  intervalMs: number;
  /** The wait before the first run after start() (default intervalMs; 0 runs at once). */
  firstRunAfterMs?: number;
  /**
   * One run. Resolving to true says it stopped with work left (a full batch): the next run starts
   * at once, after yielding to the event loop, instead of after intervalMs.
   */
  run: (context: JobContext) => Promise<boolean | void>;
  logger: JobLogger;
}

/**
 * A background loop of one process: runs `run` every intervalMs, never two runs at once (the next
 * wait starts when a run ends), again at once when a run says there is more, a failed run logged
 * and the loop kept alive. stop() cancels the wait and resolves once the run in flight has ended,
 * so a graceful shutdown closes the pool after the last statement. Across processes the runs are
 * not coordinated here: each job makes its own work safe to share (SKIP LOCKED, advisory locks).
 *
 * Written by hand: the loop is a dozen lines, and what matters (no overlap, awaitable stop) is
 * exactly what timer libraries leave to the caller.
 */
export class PeriodicJob implements JobContext {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: PeriodicJobOptions) {}

  /** True from stop() until the next start(), and before the first start(). */
  get stopping(): boolean {
    return this.stopped;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // Started again before a stopped run ended: that run schedules the next when it ends.
    if (!this.running) this.schedule(this.options.firstRunAfterMs ?? this.options.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    let more = false;
    try {
      more = (await this.options.run(this)) === true;
    } catch (error) {
      this.options.logger.warn(`${this.options.name} pass failed`, { error: String(error) });
    }
    // setTimeout(0) rather than a loop: a job that always has more still yields to the event loop.
    this.schedule(more ? 0 : this.options.intervalMs);
  }
}
