import { prom, type Registry } from "@herald/http";
import type { BreakerState } from "@herald/resilience";

export type Outcome = "sent" | "retried" | "failover" | "dead_lettered" | "failed" | "suppressed" | "duplicate";

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** A delivery's channel, with the provider of its attempt when there was one. */
type Target = string | { channel: string; provider: string | null };

/**
 * Prometheus metrics of a worker: messages consumed by queue, outcomes by channel and provider,
 * provider attempts, send latency, breaker state.
 */
export class WorkerMetrics {
  private readonly outcomes: prom.Counter<"channel" | "provider" | "outcome">;
  private readonly attempts: prom.Counter<"channel" | "provider" | "result">;
  private readonly consumedMessages: prom.Counter<"queue">;
  private readonly latency: prom.Histogram<"channel">;
  private readonly breaker: prom.Gauge<"provider">;

  constructor(registry: Registry) {
    this.outcomes = new prom.Counter({
      name: "deliveries_total",
      help: "Delivery outcomes by channel, provider (none when no provider was called) and outcome",
      labelNames: ["channel", "provider", "outcome"],
      registers: [registry],
    });
    this.attempts = new prom.Counter({
      name: "delivery_attempts_total",
      help: "Attempts recorded, by channel, provider and result (sent, failed)",
      labelNames: ["channel", "provider", "result"],
      registers: [registry],
    });
    this.consumedMessages = new prom.Counter({
      name: "messages_consumed_total",
      help: "Messages taken from a work queue",
      labelNames: ["queue"],
      registers: [registry],
    });
    this.latency = new prom.Histogram({
      name: "delivery_send_seconds",
      help: "Time from claim to provider acceptance of sent deliveries",
      labelNames: ["channel"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.breaker = new prom.Gauge({
      name: "circuit_breaker_state",
      help: "Circuit breaker state by provider: 0 closed, 1 half-open, 2 open",
      labelNames: ["provider"],
      registers: [registry],
    });
  }

  outcome(target: Target, outcome: Outcome, seconds?: number): void {
    const { channel, provider } = typeof target === "string" ? { channel: target, provider: null } : target;
    this.outcomes.inc({ channel, provider: provider ?? "none", outcome });
    if (outcome === "sent" || outcome === "retried" || outcome === "failed" || outcome === "dead_lettered") {
      this.attempts.inc({ channel, provider: provider ?? "none", result: outcome === "sent" ? "sent" : "failed" });
    }
    if (seconds !== undefined) this.latency.observe({ channel }, seconds);
  }

  consumed(queue: string): void {
    this.consumedMessages.inc({ queue });
  }

  breakerState(provider: string, state: BreakerState): void {
    this.breaker.set({ provider }, STATE_VALUE[state]);
  }
}
