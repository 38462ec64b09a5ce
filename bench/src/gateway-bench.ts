import http from "node:http";
import autocannon from "autocannon";
import { API_KEY } from "./environment";

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
  /** 2xx answers: the accepted sends. */
  accepted: number;
  non2xx: number;
  errors: number;
}

/**
 * autocannon, 50 connections, every request to another user so the per-user limit never bites.
 * Runs for `run.durationS` seconds, or until `run.amount` requests were answered.
 */
export async function load(url: string, userIds: string[], run: { durationS: number } | { amount: number }, connections = 50): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    ...("amount" in run ? { amount: run.amount } : { duration: run.durationS }),
    requests: [
      {
        method: "POST",
        path: "/notifications/send",
        headers: { "content-type": "application/json", "x-api-key": API_KEY },
        setupRequest: (request) => {
          next = (next + 1) % userIds.length;
          return {
            ...request,
            body: JSON.stringify({ user_id: userIds[next], channel: "email", template_id: "welcome_email", variables: { name: "Ada" } }),
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    total: result.requests.total,
    accepted: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * A process's /metrics text, on a connection of its own (node:http, no keep-alive): fetch's
 * shared pool failed ("fetch failed") on a gateway busy with the open-loop load. Tried three times.
 */
export async function metricsText(url: string): Promise<string> {
  const once = () =>
    new Promise<string>((resolve, reject) => {
      const req = http.get(`${url}/metrics`, { agent: false, timeout: 30_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}/metrics answered ${res.statusCode}`))));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`${url}/metrics: no answer in 30 s`)));
      req.on("error", reject);
    });
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await once();
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** One value of a process's /metrics (the first series of that name). */
export async function metric(url: string, ...names: string[]): Promise<number[]> {
  const text = await metricsText(url);
  return names.map((name) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN));
}

/** The gateway's accept writes so far, from its /metrics: sends per write and mean write time. */
export async function writerFigures(url: string): Promise<{ sendsPerWrite: number; meanWriteMs: number }> {
  const [writes, items, sum] = await metric(url, "accept_write_duration_seconds_count", "accept_written_items_total", "accept_write_duration_seconds_sum");
  return { sendsPerWrite: items! / writes!, meanWriteMs: (1000 * sum!) / writes! };
}

/**
 * Runs a load against the gateway and returns, with its result, the share of that time the
 * gateway's event loop was busy (from nodejs_eventloop_active_seconds_total).
 */
export async function withLoopUtilization<T>(url: string, run: () => Promise<T>): Promise<{ result: T; loop: number }> {
  const [before] = await metric(url, "nodejs_eventloop_active_seconds_total");
  const started = Date.now();
  const result = await run();
  const [after] = await metric(url, "nodejs_eventloop_active_seconds_total");
  return { result, loop: (after! - before!) / ((Date.now() - started) / 1000) };
}