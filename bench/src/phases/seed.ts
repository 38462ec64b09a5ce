// Rows written straight in SQL (generate_series), in the shape prisma/schema.prisma gives them:
// the million phase's history of notifications and the retention phase's old terminal rows.
import type pg from "pg";

/** A UUIDv7 (time-ordered, as the gateway makes them) of the timestamp `ts` and the seed text `salt`. */
const UUID_V7 = (ts: string, salt: string) =>
  `(lpad(to_hex((extract(epoch FROM ${ts}) * 1000)::bigint), 12, '0') || '7' || substr(md5(${salt}), 1, 3) || '8' || substr(md5(${salt}), 4, 15))::uuid`;

export const SEED_TEMPLATES = ["welcome_email", "password_reset", "order_shipped", "weekly_digest", "invoice_ready"];
export const SEED_STATUSES = ["sent", "failed", "dead_lettered", "suppressed", "cancelled", "scheduled"] as const;

/**
 * Extra users (seed<i>@example.com) after the bench's own, numbered with them in seed_users: the
 * bench's users come first and, with the skew below, are the heaviest (a few hundred requests each
 * of a million).
 */
export async function seedUsers(pool: pg.Pool, benchUserIds: string[], extra: number): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS seed_users`);
  await pool.query(`CREATE UNLOGGED TABLE seed_users (n int PRIMARY KEY, id uuid NOT NULL)`);
  await pool.query(`INSERT INTO seed_users SELECT ord::int, id FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, ord)`, [benchUserIds]);
  await pool.query(
    `WITH u AS (INSERT INTO users (id, email, name, created_at, updated_at)
                SELECT gen_random_uuid(), 'seed' || i || '@example.com', 'Seed ' || i, now() - interval '200 days', now()
                  FROM generate_series(1, $1::int) i RETURNING id)
     INSERT INTO seed_users SELECT $2::int + row_number() OVER ()::int, id FROM u`,
    [extra, benchUserIds.length],
  );
}

/**
 * `count` requests numbered from `first`, spread evenly over `days` days ending `endDaysAgo` days
 * ago (ids in time order, as UUIDv7), each with its deliveries: one channel (email 70%, push 15%,
 * sms 10%, webhook 5%), and a push beside a fifth of the emails; statuses sent 88%, failed 4%,
 * suppressed 3%, dead_lettered 1%, cancelled 1%, scheduled 3% (released a year from now, so the
 * scheduler leaves them alone; with `terminalOnly`, sent instead). Users skewed (the first of
 * seed_users the heaviest), five templates (welcome_email 60%), a third with an idempotency key,
 * a tenth from events. Then one attempt row per failed attempt: 3 for failed and dead-lettered
 * deliveries, 1 for the 5% of sent ones that needed a retry.
 */
export async function seedRequests(
  pool: pg.Pool,
  opts: { first: number; count: number; total: number; days: number; endDaysAgo: number; terminalOnly?: boolean; prefix: string },
): Promise<void> {
  const { first, count, total, days, endDaysAgo, prefix } = opts;
  const users = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM seed_users`)).rows[0]!.n;
  const created = `now() - make_interval(secs => (${endDaysAgo} * 86400) + (${days} * 86400.0) * (1 - i::float8 / ${total}))`;
  await pool.query(
    `WITH src AS (
       SELECT i, ${created} AS at, random() AS c, random() AS s, random() AS k, random() AS t,
              1 + floor(power(random(), 3) * ${users})::int AS un
         FROM generate_series($1::int, $2::int) i
     ),
     req AS (
       INSERT INTO notification_requests (id, user_id, user_ref, template_id, template_version, variables, priority,
                                          idempotency_key, correlation_id, source, event_type, created_at)
       SELECT ${UUID_V7("src.at", `'${prefix}r' || i`)}, u.id, u.id::text,
              CASE WHEN t < 0.6 THEN 'welcome_email' WHEN t < 0.75 THEN 'password_reset' WHEN t < 0.87 THEN 'order_shipped'
                   WHEN t < 0.95 THEN 'weekly_digest' ELSE 'invoice_ready' END,
              1, '{"name":"Ada"}'::jsonb, (CASE WHEN k < 0.05 THEN 'high' ELSE 'normal' END)::"Priority",
              CASE WHEN k < 0.33 THEN '${prefix}-idem-' || i END, '${prefix}-' || i,
              CASE WHEN k > 0.9 THEN 'event' ELSE 'api' END, CASE WHEN k > 0.9 THEN 'order.shipped' END, src.at
         FROM src JOIN seed_users u ON u.n = src.un
       RETURNING id, created_at, correlation_id
     ),
     picked AS (
       SELECT req.id, req.created_at, src.i, src.c, src.s,
              (CASE WHEN src.c < 0.7 THEN 'email' WHEN src.c < 0.85 THEN 'push' WHEN src.c < 0.95 THEN 'sms' ELSE 'webhook' END) AS channel
         FROM req JOIN src ON req.correlation_id = '${prefix}-' || src.i
       UNION ALL
       SELECT req.id, req.created_at, src.i, src.c, random(), 'push'
         FROM req JOIN src ON req.correlation_id = '${prefix}-' || src.i WHERE src.c < 0.14
     ),
     graded AS (
       SELECT *, (CASE WHEN s < 0.88 THEN 'sent' WHEN s < 0.92 THEN 'failed' WHEN s < 0.95 THEN 'suppressed'
                       WHEN s < 0.96 THEN 'dead_lettered' WHEN s < 0.97 THEN 'cancelled'
                       ELSE ${opts.terminalOnly ? "'sent'" : "'scheduled'"} END) AS status
         FROM picked
     )
     INSERT INTO deliveries (id, request_id, channel, status, attempts, last_error, last_error_code, provider_message_id, provider,
                             release_at, sent_at, failed_at, created_at, updated_at)
     SELECT ${UUID_V7("created_at", `'${prefix}d' || i || channel`)}, id, channel::"Channel", status::"DeliveryStatus",
            CASE WHEN status IN ('failed', 'dead_lettered') THEN 3 WHEN status = 'sent' AND s < 0.044 THEN 2 WHEN status = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN status IN ('failed', 'dead_lettered') THEN '550 mailbox unavailable' END,
            CASE WHEN status IN ('failed', 'dead_lettered') THEN 'provider_rejected' END,
            CASE WHEN status = 'sent' THEN '<${prefix}-' || i || '-' || channel || '@herald>' END,
            CASE WHEN status IN ('sent', 'failed', 'dead_lettered') THEN channel || '-primary' END,
            CASE WHEN status = 'scheduled' THEN now() + interval '365 days' END,
            CASE WHEN status = 'sent' THEN created_at + interval '2 seconds' END,
            CASE WHEN status IN ('failed', 'dead_lettered') THEN created_at + interval '10 minutes' END,
            created_at, created_at + interval '2 seconds'
       FROM graded`,
    [first, first + count - 1],
  );
}

/** The attempt rows of the seeded deliveries that failed at least once (call once, after all seedRequests). */
export async function seedAttempts(pool: pg.Pool): Promise<number> {
  const { rowCount } = await pool.query(
    `INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, created_at, provider)
     SELECT d.id, a, 'provider_unavailable', '421 try again later', a < d.attempts, d.created_at + a * interval '1 minute', d.provider
       FROM deliveries d CROSS JOIN LATERAL generate_series(1, d.attempts - CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END) a
      WHERE d.status IN ('failed', 'dead_lettered') OR (d.status = 'sent' AND d.attempts > 1)`,
  );
  return rowCount ?? 0;
}
