import { performance } from "node:perf_hooks";
import { createRegistry } from "./metrics";

const active = async (registry: ReturnType<typeof createRegistry>) => {
  const text = await registry.metrics();
  return Number(/^nodejs_eventloop_active_seconds_total\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
};

/** The event loop's own busy time so far, in seconds (what the counter must follow). */
const loopActive = () => performance.eventLoopUtilization().active / 1000;

describe("nodejs_eventloop_active_seconds_total", () => {
  it("counts the time the loop was busy, not the time it waited", async () => {
    const registry = createRegistry("test");
    const start = await active(registry);

    const until = Date.now() + 150;
    while (Date.now() < until) {
      // busy: the loop runs this and nothing else
    }
    const afterBusy = await active(registry);
    expect(afterBusy - start).toBeGreaterThanOrEqual(0.14);

    // Waiting: the counter follows the loop's own busy time, not the clock. Other work of this
    // test process (a garbage collection after earlier test files) may run meanwhile and is
    // counted, so the check is against the loop's own figure, read around both counter reads.
    const loopBefore = loopActive();
    const fromCounter = await active(registry);
    const waitedFrom = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const untilCounter = await active(registry);
    const waited = (Date.now() - waitedFrom) / 1000;
    const loopAfter = loopActive();
    expect(untilCounter - fromCounter).toBeLessThanOrEqual(loopAfter - loopBefore + 0.001);
    // A counter of the clock would have counted the whole wait.
    expect(untilCounter - fromCounter).toBeLessThan(waited - 0.15);
  });
});
