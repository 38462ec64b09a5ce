import { Batcher } from "./batcher";

describe("Batcher", () => {
  it("runs the calls of one turn as one batch and answers each in order", async () => {
    const runs: number[][] = [];
    const batcher = new Batcher<number, number>((inputs) => {
      runs.push(inputs);
      return Promise.resolve(inputs.map((n) => n * 2));
    });
    await expect(Promise.all([1, 2, 3].map((n) => batcher.call(n)))).resolves.toEqual([2, 4, 6]);
    expect(runs).toEqual([[1, 2, 3]]);
  });

  it("splits at maxBatch and keeps at most maxConcurrent runs in flight; the others join the next batch", async () => {
    const runs: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const batcher = new Batcher<number, number>(
      async (inputs) => {
        runs.push(inputs);
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return inputs;
      },
      { maxBatch: 2, maxConcurrent: 1 },
    );
    const first = [1, 2, 3].map((n) => batcher.call(n));
    await new Promise((resolve) => setImmediate(resolve));
    const later = [4, 5].map((n) => batcher.call(n));
    await expect(Promise.all([...first, ...later])).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(1);
    expect(runs[0]).toEqual([1, 2]);
    expect(runs.flat().sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it("fails one input with Batcher.failed and every input when the run throws", async () => {
    const some = new Batcher<number, number>((inputs) => Promise.resolve(inputs.map((n) => (n === 2 ? Batcher.failed(new Error("two")) : n))));
    const results = await Promise.allSettled([1, 2, 3].map((n) => some.call(n)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const all = new Batcher<number, number>(() => Promise.reject(new Error("down")));
    await expect(all.call(1)).rejects.toThrow("down");
  });

  it("drain runs what waits at once and resolves when nothing is in flight", async () => {
    const seen: number[] = [];
    const batcher = new Batcher<number, void>(
      (inputs) => {
        seen.push(...inputs);
        return Promise.resolve(inputs.map(() => undefined));
      },
      { windowMs: 60_000 },
    );
    void batcher.call(1);
    await batcher.drain();
    expect(seen).toEqual([1]);
    expect(batcher.size).toBe(0);
  });
});
