import { prom, type Registry } from "@herald/http";
import type { BreakerState } from "@herald/resilience";

export type Outcome = "sent" | "retried" | "failover" | "dead_lettered" | "failed" | "suppressed" | "duplicate";

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Prometheus metrics of a worker: outcomes, send latency, breaker state. */
export class WorkerMetrics {
  private readonly outcomes: prom.Counter<"channel" | "outcome">;
  private readonly latency: prom.Histogram<"channel">;
  private readonly breaker: prom.Gauge<"provider">;

  constructor(registry: Registry) {
    this.outcomes = new prom.Counter({
      name: "deliveries_total",
      help: "Delivery attempts by channel and outcome",
      labelNames: ["channel", "outcome"],
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

  outcome(channel: string, outcome: Outcome, seconds?: number): void {
    this.outcomes.inc({ channel, outcome });
    if (seconds !== undefined) this.latency.observe({ channel }, seconds);
  }

  breakerState(provider: string, state: BreakerState): void {
    this.breaker.set({ provider }, STATE_VALUE[state]);
  }
}
