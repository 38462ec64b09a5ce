import autocannon from "autocannon";
import { API_KEY } from "./environment";

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  total: number;
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
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** The gateway's accept writes so far, from its /metrics: sends per write and mean write time. */
export async function writerFigures(url: string): Promise<{ sendsPerWrite: number; meanWriteMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  const writes = value("accept_write_duration_seconds_count");
  return { sendsPerWrite: value("accept_written_items_total") / writes, meanWriteMs: (1000 * value("accept_write_duration_seconds_sum")) / writes };
}
