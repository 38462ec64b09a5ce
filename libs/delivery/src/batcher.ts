/**
 * Gathers the calls made within a short window and runs them as one batch: the worker's claims
 * and "sent" records become one statement for every message in flight, instead of one round trip
 * per message (on a machine where a socket write costs tens of microseconds, the writes are what
 * a worker spends its time on). `run` answers for each input, in order.
 */
export class Batcher<I, O> {
  private pending: { input: I; resolve(output: O): void; reject(error: unknown): void }[] = [];
  private scheduled = false;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    /** How long the first call waits for others (0: until the end of this turn of the event loop). */
    private readonly windowMs = 0,
    private readonly maxBatch = 500,
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      if (this.windowMs > 0) setTimeout(() => this.flush(), this.windowMs);
      else setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.run(batch.map((p) => p.input)).then(
        (outputs) => batch.forEach((p, i) => p.resolve(outputs[i]!)),
        (error: unknown) => batch.forEach((p) => p.reject(error)),
      );
    }
  }
}
