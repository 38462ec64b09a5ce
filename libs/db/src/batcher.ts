/**
 * The one batcher every caller shares: calls made within a short window run as one batch (one
 * statement, one transaction, one publish with one wait for confirms), and `run` answers for each
 * input, in order. The worker's loads, claims and "sent" records, the gateway's accept writes and
 * the outbox publisher's publishes and deletes all go through it: on a machine where a round trip
 * or a socket write costs tens of microseconds of CPU, one per call is what a busy process would
 * otherwise spend its time on.
 *
 * - `windowMs`: how long the first call of a batch waits for others (0: until the end of this
 *   turn of the event loop, setImmediate).
 * - `maxBatch`: the most inputs one run gets.
 * - `maxConcurrent`: runs in flight at once; calls made meanwhile wait and join the next batch
 *   (so under load batches grow instead of runs piling up).
 *
 * A run that throws fails every call of its batch; a run that fails only some inputs answers
 * `Batcher.failed(error)` for those.
 */
export class Batcher<I, O> {
  private pending: { input: I; resolve(output: O): void; reject(error: unknown): void }[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private active = 0;
  private readonly idle: (() => void)[] = [];
  private readonly windowMs: number;
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;

  constructor(
    private readonly run: (inputs: I[]) => Promise<(O | BatchFailure)[]>,
    options: { windowMs?: number; maxBatch?: number; maxConcurrent?: number } = {},
  ) {
    this.windowMs = options.windowMs ?? 0;
    this.maxBatch = options.maxBatch ?? 500;
    this.maxConcurrent = options.maxConcurrent ?? Infinity;
  }

  /** The answer for one input that its batch's run could not give (the others' stand). */
  static failed(error: unknown): BatchFailure {
    return new BatchFailure(error);
  }

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /** Calls waiting for their batch, and runs in flight. */
  get size(): number {
    return this.pending.length + this.active;
  }

  /** Runs what is waiting now, without the window, and resolves once no run is in flight (shutdown). */
  async drain(): Promise<void> {
    this.start();
    while (this.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.windowMs > 0) this.timer = setTimeout(() => this.start(), this.windowMs);
    else setImmediate(() => this.start());
  }

  private start(): void {
    this.scheduled = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.active < this.maxConcurrent && this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.active += 1;
      void this.runBatch(batch).finally(() => {
        this.active -= 1;
        if (this.pending.length > 0) this.schedule();
        else if (this.active === 0) for (const wake of this.idle.splice(0)) wake();
      });
    }
  }

  private async runBatch(batch: Batcher<I, O>["pending"]): Promise<void> {
    try {
      const outputs = await this.run(batch.map((p) => p.input));
      batch.forEach((p, i) => {
        const output = outputs[i];
        if (output instanceof BatchFailure) p.reject(output.error);
        else p.resolve(output as O);
      });
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}

/** See Batcher.failed. */
export class BatchFailure {
  constructor(readonly error: unknown) {}
}
