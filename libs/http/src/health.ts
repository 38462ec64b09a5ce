import type { Router } from "express";
import express from "express";
import type client from "prom-client";

export type HealthCheck = () => Promise<void>;

export interface HealthOptions {
  service: string;
  /** Dependencies that must answer for /health/ready: name -> check. */
  checks: Record<string, HealthCheck>;
  /** Extra facts for /health (breaker states, ...). */
  details?: () => Record<string, unknown>;
  registry: client.Registry;
  /** The text of /metrics (default: the registry's; a clustered process serves its cluster's). */
  metrics?: () => Promise<string>;
  timeoutMs?: number;
}

async function run(check: HealthCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return "ok";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health (alive), GET /health/ready (every dependency answers, else 503), GET /metrics. */
export function healthRoutes({ service, checks, details, registry, metrics, timeoutMs = 2000 }: HealthOptions): Router {
  const router = express.Router();
  const startedAt = Date.now();
  router.get("/health", (_req, res) => {
    res.json({
      success: true,
      data: { status: "ok", service, uptime_s: Math.round((Date.now() - startedAt) / 1000), ...details?.() },
      error: null,
      message: "alive",
      meta: {},
    });
  });
  router.get("/health/ready", async (_req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => run(checks[name]!, timeoutMs)));
    const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ready = results.every((r) => r === "ok");
    res.status(ready ? 200 : 503).json({
      success: ready,
      data: { status: ready ? "ready" : "not_ready", service, checks: report },
      error: ready ? null : { code: "service_unavailable" },
      message: ready ? "ready" : "a dependency is down",
      meta: {},
    });
  });
  router.get("/metrics", async (_req, res) => {
    let text: string;
    try {
      text = await (metrics ? metrics() : registry.metrics());
    } catch (error) {
      res.status(503).type("text/plain").send(`metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
      return;
    }
    res.setHeader("Content-Type", registry.contentType);
    res.send(text);
  });
  return router;
}
