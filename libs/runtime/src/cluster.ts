import cluster, { type Worker } from "node:cluster";
import { prom, type Registry } from "@herald/http";
import type { Releasers } from "./releasers";
import { runMain } from "./main";

const METRICS_REQUEST = "herald:metrics-request";
const METRICS_ANSWER = "herald:metrics-answer";

interface MetricsAnswer {
  type: typeof METRICS_ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/**
 * Runs a process as `processes` copies behind one listening socket (node:cluster), or as itself
 * when `processes` is 1. The primary only forks and re-forks: it opens no connection and runs none
 * of our code paths, so there is little in it that can die. It holds the listening socket, so a
 * copy that is killed costs only the requests it had in flight; new connections go to the others
 * while a replacement starts (1 s, 2 s, ... 30 s apart if copies keep dying; reset after a minute).
 * SIGTERM/SIGINT reach every copy, which shuts down gracefully; the primary exits after the last.
 */
export function runClustered(
  service: string,
  processes: number,
  start: () => Promise<Releasers>,
  /** Environment every copy must share (a development key generated once, in the primary). */
  sharedEnv: Record<string, string> = {},
): void {
  if (processes <= 1 || !cluster.isPrimary) {
    runMain(service, start);
    return;
  }
  const log = (level: string, message: string, meta: Record<string, unknown> = {}) =>
    process.stdout.write(`${JSON.stringify({ level, message, service, role: "primary", ...meta })}\n`);
  const aggregator = new prom.AggregatorRegistry();
  let stopping = false;
  let restarts = 0;
  const startedAt = new Map<Worker, number>();

  const fork = () => {
    const worker = cluster.fork(sharedEnv);
    startedAt.set(worker, Date.now());
    worker.on("message", (message: { type?: unknown; id?: unknown }) => {
      if (message?.type !== METRICS_REQUEST) return;
      const id = Number(message.id);
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_ANSWER, id, text } satisfies MetricsAnswer),
        (error: unknown) => worker.send({ type: METRICS_ANSWER, id, error: String(error) } satisfies MetricsAnswer),
      );
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) {
      if (startedAt.size === 0) process.exit(0);
      return;
    }
    if (lived > 60_000) restarts = 0;
    const delay = Math.min(1000 * 2 ** restarts, 30_000);
    restarts += 1;
    log("warn", `a ${service} process exited; starting another`, { pid: worker.process.pid, code, signal, restart_in_ms: delay });
    setTimeout(() => {
      if (!stopping) fork();
    }, delay);
  });

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping every process", { signal });
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    if (startedAt.size === 0) process.exit(0);
    setTimeout(() => process.exit(1), 35_000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  log("info", `starting ${processes} ${service} processes on one port`, { processes });
  for (let i = 0; i < processes; i += 1) fork();
}

let nextId = 0;
const waiting = new Map<number, (answer: MetricsAnswer) => void>();

/**
 * What /metrics serves in a process: its own registry, or, in a copy under runClustered, every
 * copy's metrics summed by the primary (a scrape lands on any one copy and must see them all).
 */
export function metricsSource(registry: Registry): () => Promise<string> {
  if (!cluster.isWorker) return () => registry.metrics();
  // Constructing one makes prom-client answer the primary's requests for this copy's metrics.
  new prom.AggregatorRegistry();
  prom.AggregatorRegistry.setRegistries([registry]);
  process.on("message", (message: Partial<MetricsAnswer>) => {
    if (message?.type !== METRICS_ANSWER) return;
    waiting.get(Number(message.id))?.(message as MetricsAnswer);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = (nextId += 1);
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error("the primary did not answer with the cluster's metrics"));
      }, 5000);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        waiting.delete(id);
        if (answer.error !== undefined || answer.text === undefined) reject(new Error(answer.error ?? "no metrics"));
        else resolve(answer.text);
      });
      process.send?.({ type: METRICS_REQUEST, id });
    });
}
