import type { Config } from "@herald/config";
import { retryDelays } from "@herald/resilience";

/**
 * How long a copy of a message waits before it looks again at a delivery that another live worker
 * is sending right now: half the time after which an instance counts as dead, so a dead worker's
 * claim is decided at most one recheck after its verdict.
 */
export function recheckDelayMs(config: Config): number {
  return Math.max(100, Math.round(config.worker.deadAfterMs / 2));
}

/** Every delay queue the topology declares per work queue: one per retry delay, and the recheck. */
export function topologyDelays(config: Config): number[] {
  const retries = retryDelays(config.retry);
  return [...new Set([...retries, recheckDelayMs(config)])];
}
