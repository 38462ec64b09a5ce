import { prom, type Registry } from "@herald/http";
import type { Overview } from "./overview";

type Logger = { warn(message: string, meta?: Record<string, unknown>): void };

/**
 * The platform's backlog as Prometheus gauges, on the gateway's /metrics: queue depth, consumers
 * and oldest-message age per queue (the broker's management API), the outbox backlog and the age
 * of its oldest row, scheduled/held deliveries, open dead letters by error code, live worker
 * instances. Each is read through the Overview's caches (one query or fetch per few seconds, never
 * per scrape). `aggregator: "max"`: copies of a clustered gateway report the same figures, which
 * must not be summed. Every gateway replica reports them too: dashboards take max() by label.
 */
export function registerBacklogGauges(registry: Registry, overview: Overview, logger: Logger): void {
  const failing = new Set<string>();
  const guard = async (what: string, read: () => Promise<void>) => {
    try {
      await read();
      failing.delete(what);
    } catch (error) {
      // A figure that cannot be read is left out of the scrape (absent, not zero); logged once per outage.
      if (!failing.has(what)) logger.warn("a metric could not be read", { metric: what, error: String(error) });
      failing.add(what);
    }
  };

  const messages = new prom.Gauge({
    name: "queue_messages",
    help: "Messages in a RabbitMQ queue by state: ready (waiting) or unacked (taken by a consumer, not settled)",
    labelNames: ["queue", "state"],
    registers: [registry],
    aggregator: "max",
    collect: () =>
      guard("queue_messages", async () => {
        const queues = await overview.broker.queues();
        messages.reset();
        consumers.reset();
        oldest.reset();
        for (const q of queues) {
          messages.set({ queue: q.queue, state: "ready" }, q.ready);
          messages.set({ queue: q.queue, state: "unacked" }, q.unacked);
          consumers.set({ queue: q.queue }, q.consumers);
          oldest.set({ queue: q.queue }, q.oldest_age_seconds ?? 0);
        }
      }),
  });
  const consumers = new prom.Gauge({ name: "queue_consumers", help: "Consumers of a RabbitMQ queue", labelNames: ["queue"], registers: [registry], aggregator: "max" });
  const oldest = new prom.Gauge({
    name: "queue_oldest_message_age_seconds",
    help: "Age of the message at the head of a queue (from its timestamp property); 0 when the queue is empty",
    labelNames: ["queue"],
    registers: [registry],
    aggregator: "max",
  });

  const outboxRows = new prom.Gauge({
    name: "outbox_pending_rows",
    help: "Outbox rows not yet confirmed by the broker",
    registers: [registry],
    aggregator: "max",
    collect: () =>
      guard("outbox", async () => {
        const outbox = await overview.outbox.get();
        outboxRows.set(outbox.pending);
        outboxAge.set(outbox.oldest_age_seconds ?? 0);
      }),
  });
  const outboxAge = new prom.Gauge({
    name: "outbox_oldest_age_seconds",
    help: "Age of the oldest outbox row (0 when empty): above a few seconds the broker is away or the relay stuck",
    registers: [registry],
    aggregator: "max",
  });

  const backlog = new prom.Gauge({
    name: "deliveries_awaiting_release",
    help: "Deliveries waiting in PostgreSQL for their release time: scheduled (send_at) or held (quiet hours)",
    labelNames: ["status"],
    registers: [registry],
    aggregator: "max",
    collect: () =>
      guard("deliveries_awaiting_release", async () => {
        const counts = await overview.backlog.get();
        backlog.set({ status: "scheduled" }, counts.scheduled);
        backlog.set({ status: "held" }, counts.held);
      }),
  });

  const dead = new prom.Gauge({
    name: "dead_letters_open",
    help: "Dead letters not replayed yet, by error code and channel",
    labelNames: ["error_code", "channel"],
    registers: [registry],
    aggregator: "max",
    collect: () =>
      guard("dead_letters_open", async () => {
        const rows = await overview.deadLetters.get();
        dead.reset();
        for (const r of rows) dead.set({ error_code: r.error_code, channel: r.channel ?? "unknown" }, r.count);
      }),
  });

  const alive = new prom.Gauge({
    name: "worker_instances_alive",
    help: "Worker instances with a heartbeat in the last 15 s, by service",
    labelNames: ["service"],
    registers: [registry],
    aggregator: "max",
    collect: () =>
      guard("worker_instances_alive", async () => {
        const instances = await overview.instances.get();
        alive.reset();
        const counts = new Map<string, number>();
        for (const i of instances) counts.set(i.service, (counts.get(i.service) ?? 0) + 1);
        for (const [service, n] of counts) alive.set({ service }, n);
      }),
  });
}
