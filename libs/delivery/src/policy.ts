import type { Config } from "@herald/config";
import type { Channel } from "@herald/db";
import type { BreakerOptions, RetryPolicy } from "@herald/resilience";
import { recheckDelayMs } from "@herald/runtime";

/**
 * How a worker behaves, built once from the configuration: the retry policy, the breakers, the
 * instance heartbeat, what happens to an attempt a dead worker left on the wire, and the watchdog.
 * The worker gets this, not the whole runtime.
 */
export interface WorkerPolicy {
  queue: string;
  /** RABBITMQ_QUEUE_TYPE: with quorum queues a worker also consumes `<queue>.priority`, first. */
  queueType: "classic" | "quorum";
  /** Unacked messages at once (WORKER_PREFETCH). */
  prefetch: number;
  retry: RetryPolicy;
  /** Opening and recovery; each breaker's trial time limit comes from its provider's deadline. */
  breaker: Omit<BreakerOptions, "trialTimeoutMs">;
  /** How often this instance writes its heartbeat. */
  heartbeatMs: number;
  /** An instance whose heartbeat is older than this is dead: its claims are decided at once. */
  deadAfterMs: number;
  /** A claim that names no instance (from before instances) is dead after this long. */
  leaseMs: number;
  /**
   * How long a copy of a message waits before it looks again at a delivery another live worker
   * is sending right now (a delay queue of its own).
   */
  recheckMs: number;
  /** Channels whose attempt a dead worker left on the wire are sent again (at-least-once). */
  resendInterrupted: ReadonlySet<Channel>;
  /** No progress for this long with messages in hand: stalled (0: from the providers' deadlines). */
  stallAfterMs: number;
  /** Outbound sends per second by channel, unless a handler names its own; 0 = unlimited. */
  rates: Partial<Record<Channel, number>>;
  /** Between two tries of a statement while PostgreSQL is away. */
  databaseRetryMs: number;
}

/** A worker's extra time on top of a provider's own timeout before the worker gives up the call. */
export const DEADLINE_GRACE_MS = 1000;

export function workerPolicy(config: Config, queue: string, overrides: { breakerFailureThreshold?: number } = {}): WorkerPolicy {
  const { worker, retry, breaker } = config;
  return {
    queue,
    queueType: config.rabbitmq.queueType,
    prefetch: worker.prefetch,
    retry,
    breaker: {
      failureThreshold: overrides.breakerFailureThreshold ?? breaker.failureThreshold,
      recoveryTimeoutMs: breaker.recoveryTimeoutMs,
    },
    heartbeatMs: worker.heartbeatMs,
    deadAfterMs: worker.deadAfterMs,
    leaseMs: worker.leaseMs,
    recheckMs: recheckDelayMs(config),
    resendInterrupted: new Set(worker.resendInterrupted),
    stallAfterMs: worker.stallAfterMs,
    rates: config.outboundRates,
    databaseRetryMs: 500,
  };
}
