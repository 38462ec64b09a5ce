import type { RequestHandler } from "express";
import client from "prom-client";

export type { Registry, Counter, Gauge, Histogram } from "prom-client";
export { client as prom };

/** One registry per process (and per app under test), with Node's default metrics. */
export function createRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  eventLoopActive(registry);
  return registry;
}

/**
 * nodejs_eventloop_active_seconds_total: how long the event loop ran JavaScript or callbacks
 * rather than waiting for I/O. Its rate is the loop's utilization: near 1, the process is the
 * bottleneck (run more of them); well below 1 under load, its requests are waiting on something else.
 */
function eventLoopActive(registry: client.Registry): void {
  let counted = performance.eventLoopUtilization().active;
  new client.Counter({
    name: "nodejs_eventloop_active_seconds_total",
    help: "Time the event loop was busy (not waiting for I/O); rate() of it is the loop's utilization",
    registers: [registry],
    collect() {
      const active = performance.eventLoopUtilization().active;
      this.inc((active - counted) / 1000);
      counted = active;
    },
  });
}

/** http_request_duration_seconds by method, route and status. */
export function httpMetrics(registry: client.Registry): RequestHandler {
  const histogram = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  // One child per label set, found by a string key: prom-client would hash the label object on
  // every observation.
  const children = new Map<string, client.Histogram.Internal<"method" | "route" | "status">>();
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      const labels = { method: req.method, route: route ? `${req.baseUrl}${route}` : "unmatched", status: String(res.statusCode) };
      const key = `${labels.method} ${labels.route} ${labels.status}`;
      let child = children.get(key);
      if (!child) {
        child = histogram.labels(labels);
        children.set(key, child);
      }
      child.observe(Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };
}
