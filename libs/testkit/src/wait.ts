/** Polls until `check` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 50, what = "condition" }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The most events inside any window of `windowMs` (half-open, starting at an event): for checking
 * that a rate budget held, e.g. busiestWindow(sendTimes, 1000 - slack) <= perSecond.
 */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  for (let start = 0, end = 0; start < sorted.length; start += 1) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end += 1;
    busiest = Math.max(busiest, end - start);
  }
  return busiest;
}

/**
 * The events that came sooner than a budget of `perSecond` allows, judged in a way load cannot
 * break: a budget grants events at least 1000/perSecond ms apart, starting no earlier than
 * `since`, and each event happens after its grant, so the k-th event (0-based, in time order) can
 * come no sooner than since + k intervals. Delays only make events later, which keeps the bound;
 * a missing budget (or one per process where it should be shared) breaks it. Empty when it held.
 * (1 ms of slack: Date.now() is whole milliseconds, a budget's clock need not be.)
 */
export function earlierThanBudget(times: readonly number[], since: number, perSecond: number): { k: number; afterMs: number; earliestMs: number }[] {
  const interval = 1000 / perSecond;
  return [...times]
    .sort((a, b) => a - b)
    .map((at, k) => ({ k, afterMs: at - since, earliestMs: Math.floor(k * interval) - 1 }))
    .filter((e) => e.afterMs < e.earliestMs);
}
