import { createHash } from "node:crypto";
import type { Pool, PoolClient } from "pg";
import { newId, type Channel, type Priority } from "@herald/db";
import { releaseToOutbox, type DeliveryEnvelope, type StoredOutgoing } from "@herald/messaging";
import { eventSourceColumns, statusEventsInsert } from "@herald/status-webhooks";
import { quietHoursEnd } from "@herald/users";
import type { AcceptItem, DecidedWrite } from "./decisions";
import type { DeliveryRow } from "./rows";

/**
 * What a digest's template sees: the carrier's own variables, and from Herald `events` (each
 * send's variables, oldest first), `count`, `first` and `last`.
 */
export function digestView(own: Record<string, unknown>, events: Record<string, unknown>[]): Record<string, unknown> {
  return { ...own, events, count: events.length, first: events[0] ?? null, last: events[events.length - 1] ?? null };
}

interface OpenWindow {
  id: string;
  user_id: string;
  template_id: string;
  channel: Channel;
  digest_key: string;
  carrier_delivery_id: string | null;
  count: number;
  max: number | null;
  closes_at: Date;
}

const identity = (w: Pick<OpenWindow, "user_id" | "template_id" | "channel" | "digest_key">) =>
  JSON.stringify([w.user_id, w.template_id, w.channel, w.digest_key]);

/** The advisory lock of a digest key (64 bits of its hash: a collision only makes two keys wait for each other). */
const lockOf = (id: string) => BigInt.asIntN(64, createHash("sha256").update(id).digest().readBigUInt64BE(0)).toString();

/** Digest sends collect while their channel would go out now or when quiet hours end. */
const COLLECTS = new Set(["queued", "held"]);

/**
 * Decides the digests of a batch, inside the accept transaction. Per (user, template, channel,
 * key) an advisory lock serialises every accept (any gateway, any batch), so a key has at most one
 * open window. A send joins the open window (status `digesting`, its digest_delivery_id the
 * window's carrier: its first collected send) or opens one that closes after `window`; with
 * `first: "immediate"` the send that opens a window goes out as usual and the window collects the
 * next ones. A window that reaches `max` closes at once. The scheduler releases closed windows.
 */
export async function decideDigests(client: PoolClient | Pool, items: AcceptItem[]): Promise<DecidedWrite | undefined> {
  const digests = items.filter((item) => item.digest && item.request.template_id);
  const keyOf = (item: AcceptItem, channel: Channel) => ({
    user_id: item.request.user_id,
    template_id: item.request.template_id!,
    channel,
    digest_key: item.digest!.key ?? "",
  });
  const wanted = new Map<string, ReturnType<typeof keyOf>>();
  for (const item of digests) for (const d of item.deliveries) if (COLLECTS.has(d.status)) wanted.set(identity(keyOf(item, d.channel)), keyOf(item, d.channel));
  if (wanted.size === 0) return undefined;

  // Locks first, in their own statement: the next one's snapshot then sees what the holders committed.
  const locks = [...new Set([...wanted.keys()].map(lockOf))].sort();
  const { rows: clock } = await client.query<{ now: Date }>(
    "SELECT now() AS now, count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k) AS l",
    [locks],
  );
  const now = clock[0]!.now;
  const queried = [...wanted.values()];
  // FOR UPDATE: a scheduler releasing one of these windows right now is waited for (its window is then gone).
  const { rows } = await client.query<OpenWindow>(
    `SELECT w.id, w.user_id, w.template_id, w.channel, w.digest_key, w.carrier_delivery_id, w.count, w.max, w.closes_at
       FROM digest_windows w
       JOIN unnest($1::uuid[], $2::text[], $3::"Channel"[], $4::text[]) AS q(user_id, template_id, channel, digest_key)
         ON w.user_id = q.user_id AND w.template_id = q.template_id AND w.channel = q.channel AND w.digest_key = q.digest_key
      WHERE w.closes_at > now()
        FOR UPDATE OF w`,
    [queried.map((q) => q.user_id), queried.map((q) => q.template_id), queried.map((q) => q.channel), queried.map((q) => q.digest_key)],
  );
  const open = new Map(rows.map((w) => [identity(w), w]));
  const changed = new Map<string, OpenWindow>();

  for (const item of digests) {
    const { window, max, first } = item.digest!;
    for (const d of item.deliveries) {
      if (!COLLECTS.has(d.status)) continue;
      const id = identity(keyOf(item, d.channel));
      let w = open.get(id);
      if (!w) {
        w = { id: newId(), ...keyOf(item, d.channel), carrier_delivery_id: null, count: 0, max: max ?? null, closes_at: new Date(now.getTime() + window) };
        open.set(id, w);
        changed.set(w.id, w);
        if (first === "immediate") {
          // Goes out now, as a digest of one.
          d.variables = digestView(item.request.variables, [item.request.variables]);
          continue;
        }
      }
      w.carrier_delivery_id ??= d.id;
      w.count += 1;
      changed.set(w.id, w);
      if (w.max !== null && w.count >= w.max) {
        w.closes_at = now;
        open.delete(id);
      }
      const decided: Partial<DeliveryRow> = { status: "digesting", release_at: w.closes_at.toISOString(), last_error: null, last_error_code: null, digest_delivery_id: w.carrier_delivery_id };
      Object.assign(d, decided);
    }
  }
  return {
    params: [JSON.stringify([...changed.values()].map((w) => ({ ...w, closes_at: w.closes_at.toISOString() })))],
    sql: (param) => `INSERT INTO digest_windows (id, user_id, template_id, channel, digest_key, carrier_delivery_id, count, max, closes_at)
       SELECT v.id, v.user_id, v.template_id, v.channel, v.digest_key, v.carrier_delivery_id, v.count, v.max, v.closes_at
         FROM jsonb_to_recordset(${param(0)}::jsonb) AS v(id uuid, user_id uuid, template_id text, channel "Channel", digest_key text,
              carrier_delivery_id uuid, count int, max int, closes_at timestamptz)
       ON CONFLICT (id) DO UPDATE SET carrier_delivery_id = EXCLUDED.carrier_delivery_id, count = EXCLUDED.count, closes_at = EXCLUDED.closes_at`,
  };
}

interface Member {
  id: string;
  digest_delivery_id: string;
  request_id: string;
  channel: Channel;
  priority: Priority;
  variables: Record<string, unknown>;
  correlation_id: string;
  quiet_start: string | null;
  quiet_end: string | null;
  quiet_timezone: string | null;
}

export interface DigestRelease {
  /** The carriers' outbox messages (those not held by quiet hours), to publish after the commit. */
  stored: StoredOutgoing[];
  windows: number;
  /** Deliveries folded into a carrier, by channel. */
  digested: Map<Channel, number>;
}

/**
 * Releases the digest windows that have closed (their time is up, or they reached `max`), inside
 * the scheduler's transaction: each becomes one delivery, its carrier's, which renders with the
 * window's events (deliveries.variables); the others end `digested`, naming it. Quiet hours are
 * decided now, at send time: inside them the carrier is held until they end. Windows are taken
 * with FOR UPDATE SKIP LOCKED, so every gateway's scheduler can run this.
 */
export async function releaseDueDigests(client: PoolClient, batchSize: number, now = new Date()): Promise<DigestRelease> {
  const { rows: due } = await client.query<{ id: string; carrier_delivery_id: string | null }>(
    `SELECT id, carrier_delivery_id FROM digest_windows WHERE closes_at <= now() ORDER BY closes_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [batchSize],
  );
  const release: DigestRelease = { stored: [], windows: due.length, digested: new Map() };
  if (due.length === 0) return release;
  const carriers = due.flatMap((w) => (w.carrier_delivery_id ? [w.carrier_delivery_id] : []));
  const { rows: members } = await client.query<Member>(
    `SELECT d.id, d.digest_delivery_id, d.request_id, d.channel, d.priority, r.variables, r.correlation_id,
            p.quiet_hours_start AS quiet_start, p.quiet_hours_end AS quiet_end, p.quiet_hours_timezone AS quiet_timezone
       FROM deliveries d
       JOIN notification_requests r ON r.id = d.request_id
       LEFT JOIN preferences p ON p.user_id = r.user_id
      WHERE d.digest_delivery_id = ANY($1::uuid[]) AND d.status = 'digesting'
      ORDER BY d.created_at, d.id
        FOR UPDATE OF d`,
    [carriers],
  );
  const byWindow = new Map<string, Member[]>();
  for (const m of members) byWindow.set(m.digest_delivery_id, [...(byWindow.get(m.digest_delivery_id) ?? []), m]);

  const sent: { id: string; status: "queued" | "held"; release_at: string | null; variables: Record<string, unknown> }[] = [];
  const folded: { id: string; carrier: string }[] = [];
  const outgoing: DeliveryEnvelope[] = [];
  for (const w of due) {
    const group = w.carrier_delivery_id ? (byWindow.get(w.carrier_delivery_id) ?? []) : [];
    // The window's first send carries it (or, if that one was cancelled, the next).
    const carrier = group.find((m) => m.id === w.carrier_delivery_id) ?? group[0];
    if (!carrier) continue;
    const quiet =
      carrier.quiet_start && carrier.quiet_end && carrier.quiet_timezone
        ? quietHoursEnd({ start: carrier.quiet_start, end: carrier.quiet_end, timezone: carrier.quiet_timezone }, now)
        : undefined;
    sent.push({ id: carrier.id, status: quiet ? "held" : "queued", release_at: quiet?.toISOString() ?? null, variables: digestView(carrier.variables, group.map((m) => m.variables)) });
    if (!quiet) {
      outgoing.push({ deliveryId: carrier.id, requestId: carrier.request_id, channel: carrier.channel, correlationId: carrier.correlation_id, priority: carrier.priority });
    }
    for (const m of group) {
      if (m.id === carrier.id) continue;
      folded.push({ id: m.id, carrier: carrier.id });
      release.digested.set(m.channel, (release.digested.get(m.channel) ?? 0) + 1);
    }
  }
  release.stored = await releaseToOutbox(client, outgoing, {
    statements: [
      // Joined to deliveries by primary key through unnest() of typed arrays (ARCHITECTURE.md, Database).
      `UPDATE deliveries d SET status = v.status, release_at = v.release_at, variables = v.variables, digest_delivery_id = v.id, updated_at = now()
         FROM unnest($1::uuid[], $2::"DeliveryStatus"[], $3::timestamptz[], $4::jsonb[]) AS v(id, status, release_at, variables)
        WHERE d.id = v.id`,
      `UPDATE deliveries d SET status = 'digested', digest_delivery_id = v.carrier, release_at = NULL, updated_at = now()
         FROM unnest($5::uuid[], $6::uuid[]) AS v(id, carrier)
        WHERE d.id = v.id
       RETURNING ${eventSourceColumns("d")}`,
      statusEventsInsert("w1"),
      `DELETE FROM digest_windows WHERE id = ANY($7::uuid[])`,
    ],
    params: [
      sent.map((c) => c.id),
      sent.map((c) => c.status),
      sent.map((c) => c.release_at),
      sent.map((c) => JSON.stringify(c.variables)),
      folded.map((f) => f.id),
      folded.map((f) => f.carrier),
      due.map((w) => w.id),
    ],
  });
  return release;
}
