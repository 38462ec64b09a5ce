import { PeriodicJob, type JobContext } from "./periodic";

/** A run the test finishes by hand, to see what the job does while one is in flight. */
function deferred() {
  let resolve!: (more: boolean | void) => void;
  const promise = new Promise<boolean | void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("PeriodicJob", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const logger = () => ({ warn: jest.fn() });

  it("runs every intervalMs after the end of the previous run, the first after intervalMs unless told otherwise", async () => {
    const run = jest.fn(() => Promise.resolve());
    const job = new PeriodicJob({ name: "test", intervalMs: 1000, run, logger: logger() });
    job.start();
    await jest.advanceTimersByTimeAsync(999);
    expect(run).toHaveBeenCalledTimes(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(3000);
    expect(run).toHaveBeenCalledTimes(4);
    await job.stop();

    const first = jest.fn(() => Promise.resolve());
    const atOnce = new PeriodicJob({ name: "test", intervalMs: 1000, firstRunAfterMs: 0, run: first, logger: logger() });
    atOnce.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(first).toHaveBeenCalledTimes(1);
    await atOnce.stop();
  });

  it("never overlaps runs: the wait starts when a slow run ends", async () => {
    let inFlight = 0;
    let most = 0;
    const runs: ReturnType<typeof deferred>[] = [];
    const job = new PeriodicJob({
      name: "test",
      intervalMs: 100,
      run: () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        const d = deferred();
        runs.push(d);
        return d.promise.finally(() => (inFlight -= 1));
      },
      logger: logger(),
    });
    job.start();
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(runs).toHaveLength(1);
    runs[0]!.resolve();
    await jest.advanceTimersByTimeAsync(99);
    expect(runs).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toHaveLength(2);
    expect(most).toBe(1);
    runs[1]!.resolve();
    await job.stop();
  });

  it("runs again at once (yielding to the event loop) while a run says there is more", async () => {
    let left = 3;
    const run = jest.fn(() => Promise.resolve(--left > 0));
    const job = new PeriodicJob({ name: "test", intervalMs: 60_000, firstRunAfterMs: 0, run, logger: logger() });
    job.start();
    // Three runs within a few milliseconds of a 60 s interval: the two "more" answers did not wait.
    await jest.advanceTimersByTimeAsync(10);
    expect(run).toHaveBeenCalledTimes(3);
    // The third said nothing more: the next waits the interval.
    await jest.advanceTimersByTimeAsync(59_000);
    expect(run).toHaveBeenCalledTimes(3);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(run).toHaveBeenCalledTimes(4);
    await job.stop();
  });

  it("logs a failed run and keeps the loop alive", async () => {
    const log = logger();
    let calls = 0;
    const job = new PeriodicJob({
      name: "outbox relay",
      intervalMs: 10,
      run: () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error("connection refused")) : Promise.resolve();
      },
      logger: log,
    });
    job.start();
    await jest.advanceTimersByTimeAsync(30);
    expect(calls).toBe(3);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith("outbox relay pass failed", { error: "Error: connection refused" });
    await job.stop();
  });

  it("stop() cancels the wait, resolves only after the run in flight has ended, and no run follows", async () => {
    const d = deferred();
    let context: JobContext | undefined;
    const run = jest.fn((ctx: JobContext) => {
      context = ctx;
      return d.promise;
    });
    const job = new PeriodicJob({ name: "test", intervalMs: 50, run, logger: logger() });
    expect(job.stopping).toBe(true);
    job.start();
    expect(job.stopping).toBe(false);
    await jest.advanceTimersByTimeAsync(50);
    expect(job.isRunning).toBe(true);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    expect(context?.stopping).toBe(true);
    await jest.advanceTimersByTimeAsync(1000);
    expect(stopped).toBe(false);
    d.resolve(true);
    await stopping;
    expect(stopped).toBe(true);
    expect(job.isRunning).toBe(false);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);

    // Stopped while waiting: nothing runs; start() again resumes.
    job.start();
    await job.stop();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("started again while a stopped run is still in flight: one loop, no overlap", async () => {
    const runs: ReturnType<typeof deferred>[] = [];
    const job = new PeriodicJob({
      name: "test",
      intervalMs: 100,
      run: () => {
        const d = deferred();
        runs.push(d);
        return d.promise;
      },
      logger: logger(),
    });
    job.start();
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toHaveLength(1);
    void job.stop();
    job.start();
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toHaveLength(1);
    runs[0]!.resolve();
    await jest.advanceTimersByTimeAsync(100);
    expect(runs).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    await job.stop();
  });

  it("start() twice is one loop", async () => {
    const run = jest.fn(() => Promise.resolve());
    const job = new PeriodicJob({ name: "test", intervalMs: 100, run, logger: logger() });
    job.start();
    job.start();
    await jest.advanceTimersByTimeAsync(100);
    expect(run).toHaveBeenCalledTimes(1);
    await job.stop();
  });
});
