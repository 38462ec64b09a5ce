import fs from "node:fs";
import type pg from "pg";
import { PORTS } from "./system";

const WORKERS: Record<string, number> = {
  "email-worker": PORTS.emailWorker,
  "push-worker": PORTS.pushWorker,
  "sms-worker": PORTS.smsWorker,
  "webhook-worker": PORTS.webhookWorker,
};

/** What a failing drill is judged by besides its counts: each worker's health, the log, the database. */
export interface Evidence {
  /** GET /health of each worker at the end (breakers, in flight, consuming, ...), or why it did not answer. */
  health: Record<string, unknown>;
  /** GET /health/ready of each worker at the end: its status code and checks. */
  ready: Record<string, unknown>;
  /** Warnings and errors of the log, counted by process and message (most frequent first). */
  log: { service: string; level: string; message: string; count: number; first: string }[];
  /** Deliveries of the drill by status in PostgreSQL at the end. */
  statuses: Record<string, number>;
  /** Deliveries with more than one dead letter (a delivery is never dead-lettered twice without a replay). */
  deadLetteredTwice: number;
}

async function getJson(url: string): Promise<{ status: number; body: unknown } | { error: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: response.status, body: ((await response.json()) as { data?: unknown }).data };
  } catch (error) {
    return { error: String(error) };
  }
}

export async function workerHealth(): Promise<{ health: Record<string, unknown>; ready: Record<string, unknown> }> {
  const health: Record<string, unknown> = {};
  const ready: Record<string, unknown> = {};
  await Promise.all(
    Object.entries(WORKERS).map(async ([name, port]) => {
      const h = await getJson(`http://127.0.0.1:${port}/health`);
      health[name] = "body" in h ? h.body : h;
      const r = await getJson(`http://127.0.0.1:${port}/health/ready`);
      ready[name] = "body" in r ? { status: r.status, checks: (r.body as { checks?: unknown } | undefined)?.checks } : r;
    }),
  );
  return { health, ready };
}

/**
 * The warn and error lines of a drill's log (JSON lines of every process), grouped; with a window,
 * only the lines stamped inside it (a stage shared by several drills has one log).
 */
export function logSummary(file: string, from?: number, to?: number, limit = 20): Evidence["log"] {
  if (!fs.existsSync(file)) return [];
  const groups = new Map<string, Evidence["log"][number]>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: { level?: string; message?: string; service?: string; timestamp?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.level !== "warn" && entry.level !== "error") continue;
    if (from !== undefined && to !== undefined) {
      const at = entry.timestamp ? Date.parse(entry.timestamp) : NaN;
      if (!(at >= from && at <= to)) continue;
    }
    const key = `${entry.service}\0${entry.level}\0${entry.message}`;
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { service: entry.service ?? "?", level: entry.level, message: String(entry.message ?? ""), count: 1, first: entry.timestamp ?? "" });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, limit);
}

export async function databaseFacts(pool: pg.Pool, deliveryIds: string[]): Promise<Pick<Evidence, "statuses" | "deadLetteredTwice">> {
  const statuses: Record<string, number> = {};
  const { rows } = await pool.query<{ status: string; n: string }>(
    "SELECT status::text AS status, count(*) AS n FROM deliveries WHERE id = ANY($1::uuid[]) GROUP BY status",
    [deliveryIds],
  );
  for (const r of rows) statuses[r.status] = Number(r.n);
  const twice = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM (SELECT delivery_id FROM dead_letters WHERE delivery_id = ANY($1::uuid[])
       GROUP BY delivery_id HAVING count(*) > 1 AND count(replayed_at) = 0) d`,
    [deliveryIds],
  );
  return { statuses, deadLetteredTwice: Number(twice.rows[0]?.n ?? 0) };
}
