/**
 * A value read at most once per `ttlMs`, however many callers ask (one read in flight at a time):
 * scrapes, console refreshes and several Prometheus servers share one query or fetch.
 */
export class Cached<T> {
  private value: { at: number; data: T } | undefined;
  private reading: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    if (this.value && this.now() - this.value.at < this.ttlMs) return Promise.resolve(this.value.data);
    this.reading ??= this.read()
      .then((data) => {
        this.value = { at: this.now(), data };
        return data;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
