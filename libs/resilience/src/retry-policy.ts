import type { DeliveryError } from "@herald/errors";

/**
 * The one retry policy of every worker: a failed attempt is retried after base, 2 x base,
 * 4 x base, ... up to `maxRetries` times, then dead-lettered. A permanent error is dead-lettered
 * at once. With the defaults (3 retries, 2000 ms) a delivery is tried at 0, 2, 6 and 14 s.
 */
export interface RetryPolicy {
  /** MAX_RETRY_ATTEMPTS: retries after the first attempt. */
  maxRetries: number;
  /** RETRY_BASE_DELAY_MS. */
  baseDelayMs: number;
}

export type RetryDecision =
  | { action: "retry"; delayMs: number; retry: number }
  | { action: "dead_letter"; reason: "permanent" | "exhausted" };

/** The wait before retry number `retry` (1-based). */
export function retryDelayMs(retry: number, baseDelayMs: number): number {
  return baseDelayMs * 2 ** (retry - 1);
}

/** Every delay the policy can ask for, in order: the delay queues to declare. */
export function retryDelays(policy: RetryPolicy): number[] {
  return Array.from({ length: policy.maxRetries }, (_, i) => retryDelayMs(i + 1, policy.baseDelayMs));
}

/** `attemptsMade` counts the attempt that just failed. */
export function decideRetry(policy: RetryPolicy, attemptsMade: number, error: DeliveryError): RetryDecision {
  if (!error.retryable) return { action: "dead_letter", reason: "permanent" };
  if (attemptsMade > policy.maxRetries) return { action: "dead_letter", reason: "exhausted" };
  return { action: "retry", delayMs: retryDelayMs(attemptsMade, policy.baseDelayMs), retry: attemptsMade };
}
