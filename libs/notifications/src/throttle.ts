import type { Pool, PoolClient } from "pg";
import { OUTGOING, type AcceptItem, type DecidedWrite } from "./decisions";
import type { DeliveryRow } from "./rows";

interface WindowRow {
  user_id: string;
  channel: string;
  throttle_key: string;
  count: number;
  ends_at: Date;
  now: Date;
}

const id = (userId: string, channel: string, key: string) => `${userId}\u0000${channel}\u0000${key}`;

/**
 * Decides the throttles of a batch, inside the accept transaction: per (user, channel, key) a
 * window opens at the first send it lets through and lasts `window`; within it at most `limit`
 * sends go out and the rest become `throttled` (not sent, and not counted). The window rows are
 * locked (INSERT ... ON CONFLICT DO UPDATE takes the row lock, in a fixed order) until the
 * transaction commits, so concurrent batches and other gateways wait for each other: of any
 * burst, exactly `limit` per window get through. Returns the write of the windows' new state.
 */
export async function decideThrottles(client: PoolClient | Pool, items: AcceptItem[]): Promise<DecidedWrite | undefined> {
  const throttled = items.filter((item) => item.throttle);
  if (throttled.length === 0) return undefined;
  const keys = new Map<string, { user_id: string; channel: string; throttle_key: string }>();
  for (const item of throttled) {
    for (const d of item.deliveries) {
      if (!OUTGOING.includes(d.status)) continue;
      const key = item.throttle!.key ?? "";
      keys.set(id(item.request.user_id, d.channel, key), { user_id: item.request.user_id, channel: d.channel, throttle_key: key });
    }
  }
  if (keys.size === 0) return undefined;
  // Locked in this order (jsonb_to_recordset reads the array in order), so batches never deadlock.
  const sorted = [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  const { rows } = await client.query<WindowRow>(
    `INSERT INTO throttle_windows (user_id, channel, throttle_key, count, ends_at)
     SELECT t.user_id, t.channel, t.throttle_key, 0, to_timestamp(0)
       FROM jsonb_to_recordset($1::jsonb) AS t(user_id uuid, channel "Channel", throttle_key text)
     ON CONFLICT (user_id, channel, throttle_key) DO UPDATE SET count = throttle_windows.count
     RETURNING user_id, channel, throttle_key, count, ends_at, now() AS now`,
    [JSON.stringify(sorted)],
  );
  const windows = new Map(rows.map((r) => [id(r.user_id, r.channel, r.throttle_key), { ...r, changed: false }]));
  for (const item of throttled) {
    const { limit, window, key = "" } = item.throttle!;
    for (const d of item.deliveries) {
      if (!OUTGOING.includes(d.status)) continue;
      const w = windows.get(id(item.request.user_id, d.channel, key))!;
      if (w.ends_at.getTime() <= w.now.getTime()) Object.assign(w, { count: 0, ends_at: new Date(w.now.getTime() + window) });
      if (w.count < limit) {
        w.count += 1;
        w.changed = true;
        continue;
      }
      const decided: Partial<DeliveryRow> = {
        status: "throttled",
        release_at: null,
        last_error: `throttled: ${limit} per ${window / 1000} s already sent on ${d.channel} (window ends ${w.ends_at.toISOString()})`,
        last_error_code: "throttled",
      };
      Object.assign(d, decided);
    }
  }
  const changed = [...windows.values()].filter((w) => w.changed);
  return {
    params: [
      changed.map((w) => w.user_id),
      changed.map((w) => w.channel),
      changed.map((w) => w.throttle_key),
      changed.map((w) => w.count),
      changed.map((w) => w.ends_at.toISOString()),
    ],
    sql: (param) => `UPDATE throttle_windows t SET count = v.count, ends_at = v.ends_at
        FROM unnest(${param(0)}::uuid[], ${param(1)}::"Channel"[], ${param(2)}::text[], ${param(3)}::int[], ${param(4)}::timestamptz[])
             AS v(user_id, channel, throttle_key, count, ends_at)
       WHERE t.user_id = v.user_id AND t.channel = v.channel AND t.throttle_key = v.throttle_key`,
  };
}
