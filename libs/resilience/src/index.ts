export { ProviderBreaker, BreakerOpenError } from "./breaker";
export type { BreakerState, BreakerOptions, BreakerPermit } from "./breaker";
export { decideRetry, retryDelayMs, retryDelays } from "./retry-policy";
export type { RetryPolicy, RetryDecision } from "./retry-policy";
export { UserRateLimiter } from "./rate-limit";
export type { RateLimitDecision, UserRateLimiterOptions } from "./rate-limit";
export { OutboundBudget, OutboundBudgets } from "./outbound-budget";
export type { OutboundBudgetOptions } from "./outbound-budget";
