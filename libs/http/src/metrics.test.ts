import { createRegistry } from "./metrics";

const active = async (registry: ReturnType<typeof createRegistry>) => {
  const text = await registry.metrics();
  return Number(/^nodejs_eventloop_active_seconds_total\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
};

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

    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterIdle = await active(registry);
    expect(afterIdle - afterBusy).toBeLessThan(0.1);
  });
});
