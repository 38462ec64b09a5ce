import type { RequestHandler } from "express";
import client from "prom-client";

export type { Registry, Counter, Gauge, Histogram } from "prom-client";
export { client as prom };

/** One registry per process (and per app under test), with Node's default metrics. */
export function createRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  return registry;
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
