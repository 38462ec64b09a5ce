import type { Pool } from "pg";
import { uuidv7Floor } from "@herald/db";

/** Sends and failed attempts of one minute, channel and provider. */
export interface MinuteRate {
  minute: string;
  channel: string;
  provider: string;
  sent: number;
  failed: number;
}

export interface WorkerInstanceView {
  id: string;
  service: string;
  host: string;
  pid: number;
  started_at: string;
  heartbeat_at: string;
  /** What the instance reports of itself: queue, consuming, in_flight, breakers, ready, reason. */
  info: Record<string, unknown>;
}

export type BreakerState = "closed" | "half_open" | "open";

/** How long without a heartbeat before an instance no longer counts as alive. */
export const ALIVE_WITHIN_SECONDS = 15;


/**
 * Sends per minute, channel and provider, over the deliveries accepted in the last hour: the
 * primary key bounds them (UUIDv7), so no index on sent_at is needed on the hot table. A delivery
 * accepted earlier and sent within the hour (scheduled, held) is not counted here.
 */
export const SENT_PER_MINUTE_SQL = `
  SELECT to_char(date_trunc('minute', sent_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:00"Z"') AS minute,
         channel::text AS channel, coalesce(provider, '') AS provider, count(*)::int AS n
    FROM deliveries
   WHERE id >= $1::uuid AND sent_at >= now() - interval '1 hour'
   GROUP BY 1, 2, 3`;

/**
 * Failed attempts per minute, channel and provider in the last hour. delivery_attempts ids grow
 * with time, so the newest row older than an hour (found scanning the primary key backwards)
 * bounds the rows to read.
 */
export const FAILED_PER_MINUTE_SQL = `
  SELECT to_char(date_trunc('minute', a.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:00"Z"') AS minute,
         d.channel::text AS channel, coalesce(a.provider, d.provider, '') AS provider, count(*)::int AS n
    FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
   WHERE a.id > coalesce((SELECT id FROM delivery_attempts WHERE created_at < now() - interval '1 hour' ORDER BY id DESC LIMIT 1), 0)
     AND a.created_at >= now() - interval '1 hour'
   GROUP BY 1, 2, 3`;

/** The figures of the platform that live in PostgreSQL, each one cheap statement. */
export class DatabaseFigures {
  constructor(private readonly pool: Pool) {}

  async ratesLastHour(now = new Date()): Promise<MinuteRate[]> {
    const floor = uuidv7Floor(new Date(now.getTime() - 3_600_000));
    type Row = { minute: string; channel: string; provider: string; n: number };
    const [sent, failed] = await Promise.all([
      this.pool.query<Row>(SENT_PER_MINUTE_SQL, [floor]),
      this.pool.query<Row>(FAILED_PER_MINUTE_SQL),
    ]);
    const rates = new Map<string, MinuteRate>();
    const entry = (r: Row) => {
      const key = `${r.minute} ${r.channel} ${r.provider}`;
      let rate = rates.get(key);
      if (!rate) rates.set(key, (rate = { minute: r.minute, channel: r.channel, provider: r.provider, sent: 0, failed: 0 }));
      return rate;
    };
    for (const r of sent.rows) entry(r).sent += r.n;
    for (const r of failed.rows) entry(r).failed += r.n;
    return [...rates.values()].sort((a, b) => a.minute.localeCompare(b.minute) || a.channel.localeCompare(b.channel) || a.provider.localeCompare(b.provider));
  }

  async outbox(): Promise<{ pending: number; oldest_age_seconds: number | null }> {
    const { rows } = await this.pool.query<{ pending: number; oldest: number | null }>(
      `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM outbox`,
    );
    const row = rows[0]!;
    return { pending: row.pending, oldest_age_seconds: row.oldest === null ? null : Math.max(0, Math.round(row.oldest * 10) / 10) };
  }

  /** Deliveries waiting in PostgreSQL for their release time (the (status, release_at) index). */
  async releaseBacklog(): Promise<{ scheduled: number; held: number }> {
    const { rows } = await this.pool.query<{ status: "scheduled" | "held"; n: number }>(
      `SELECT status::text AS status, count(*)::int AS n FROM deliveries WHERE status IN ('scheduled', 'held') GROUP BY status`,
    );
    const backlog = { scheduled: 0, held: 0 };
    for (const r of rows) backlog[r.status] = r.n;
    return backlog;
  }

  /** Dead letters not replayed yet, by error code and channel. */
  async openDeadLetters(): Promise<{ error_code: string; channel: string | null; count: number }[]> {
    const { rows } = await this.pool.query<{ error_code: string; channel: string | null; count: number }>(
      `SELECT error_code, channel, count(*)::int AS count FROM dead_letters WHERE replayed_at IS NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1`,
    );
    return rows;
  }

  /** Instances that beat within ALIVE_WITHIN_SECONDS and did not stop (their heartbeats are the lead's worker's). */
  async liveInstances(): Promise<WorkerInstanceView[]> {
    const { rows } = await this.pool.query<{ id: string; service: string; host: string; pid: number; started_at: Date; heartbeat_at: Date; info: Record<string, unknown> | null }>(
      `SELECT id, service, host, pid, started_at, heartbeat_at, info FROM worker_instances
        WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1)
        ORDER BY service, started_at`,
      [ALIVE_WITHIN_SECONDS],
    );
    return rows.map((r) => ({
      id: r.id,
      service: r.service,
      host: r.host,
      pid: r.pid,
      started_at: r.started_at.toISOString(),
      heartbeat_at: r.heartbeat_at.toISOString(),
      info: r.info ?? {},
    }));
  }
}

const SEVERITY: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Each provider's breaker across the live instances: the worst state any of them reports, and how many report each. */
export function breakerSummary(instances: WorkerInstanceView[]): { provider: string; state: BreakerState; instances: Record<BreakerState, number> }[] {
  const providers = new Map<string, Record<BreakerState, number>>();
  for (const instance of instances) {
    const breakers = instance.info.breakers;
    if (!breakers || typeof breakers !== "object") continue;
    for (const [provider, state] of Object.entries(breakers as Record<string, unknown>)) {
      if (state !== "closed" && state !== "half_open" && state !== "open") continue;
      let counts = providers.get(provider);
      if (!counts) providers.set(provider, (counts = { closed: 0, half_open: 0, open: 0 }));
      counts[state] += 1;
    }
  }
  return [...providers.entries()]
    .map(([provider, counts]) => ({
      provider,
      state: (Object.keys(counts) as BreakerState[]).filter((s) => counts[s] > 0).sort((a, b) => SEVERITY[b] - SEVERITY[a])[0] ?? "closed",
      instances: counts,
    }))
    .sort((a, b) => a.provider.localeCompare(b.provider));
}
