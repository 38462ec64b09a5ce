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

    // Waiting: the counter follows the loop's busy time, not the clock. Other work of this test
    // process (a garbage collection after earlier test files) may run meanwhile and is counted,
    // so the check is against the loop's own figure for the same 300 ms, not against zero.
    const loopBefore = loopActive();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const loopAfter = loopActive();
    const afterIdle = await active(registry);
    expect(afterIdle - afterBusy).toBeGreaterThanOrEqual(loopAfter - loopBefore);
    expect(afterIdle - afterBusy).toBeLessThan(loopAfter - loopBefore + 0.05);
  });
});
