import type { Pool } from "pg";
import { createLogger } from "@herald/logger";
import { createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import { TERMINAL_STATUSES } from "@herald/db";
import { ORPHANS_SQL, PICK_SQL, RetentionJob, type RetentionDeleted, type RetentionOptions } from "./retention";

/**
 * The retention sweep against the real PostgreSQL: what goes (old, finished notifications with
 * every row that hangs on them), what stays (anything recent or not finished), batches, and two
 * sweepers at once.
 */
const logger = createLogger({ service: "retention-test", level: "error" });

interface Seeded {
  requests: string[];
  deliveries: string[];
}

/**
 * `n` notifications created `ageDays` ago, one delivery per status given (email, sms, push, ...
 * in that order of channels), each delivery last changed `changedDaysAgo` ago (default: when it
 * was created), with one failed attempt each and a dead letter for each dead_lettered one.
 */
async function seed(pool: Pool, n: number, ageDays: number, statuses: string[], changedDaysAgo = ageDays): Promise<Seeded> {
  const channels = ["email", "sms", "push", "whatsapp", "webhook", "slack"];
  const { rows: requests } = await pool.query<{ id: string }>(
    `INSERT INTO notification_requests (id, user_id, user_ref, variables, correlation_id, created_at)
     SELECT gen_random_uuid(), gen_random_uuid(), 'user', '{}', 'corr', now() - make_interval(days => $2::int) - make_interval(secs => g)
       FROM generate_series(1, $1::int) AS g
     RETURNING id`,
    [n, ageDays],
  );
  const ids = requests.map((r) => r.id);
  const { rows: deliveries } = await pool.query<{ id: string; status: string }>(
    `INSERT INTO deliveries (id, request_id, channel, status, created_at, updated_at)
     SELECT gen_random_uuid(), r, (s.channels)[s.n]::"Channel", s.status::"DeliveryStatus",
            now() - make_interval(days => $3::int), now() - make_interval(days => $4::int)
       FROM unnest($1::uuid[]) AS r,
            (SELECT *, $5::text[] AS channels FROM unnest($2::text[]) WITH ORDINALITY AS t(status, n)) AS s
     RETURNING id, status`,
    [ids, statuses, ageDays, changedDaysAgo, channels],
  );
  await pool.query(
    `INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, created_at)
     SELECT d, 1, 'provider_error', 'boom', true, now() - make_interval(days => $2::int) FROM unnest($1::uuid[]) AS d`,
    [deliveries.map((d) => d.id), ageDays],
  );
  await pool.query(
    `INSERT INTO dead_letters (id, delivery_id, request_id, channel, error_code, error, attempts, payload, headers, created_at)
     SELECT gen_random_uuid(), d.id, d.request_id, d.channel::text, 'provider_error', 'boom', 1, '{}', '{}', now() - make_interval(days => $2::int)
       FROM deliveries d WHERE d.id = ANY($1::uuid[])`,
    [deliveries.filter((d) => d.status === "dead_lettered").map((d) => d.id), ageDays],
  );
  return { requests: ids, deliveries: deliveries.map((d) => d.id) };
}

async function counts(pool: Pool): Promise<RetentionDeleted> {
  const { rows } = await pool.query<RetentionDeleted>(
    `SELECT (SELECT count(*)::int FROM notification_requests) AS notification_requests,
            (SELECT count(*)::int FROM deliveries) AS deliveries,
            (SELECT count(*)::int FROM delivery_attempts) AS delivery_attempts,
            (SELECT count(*)::int FROM dead_letters) AS dead_letters`,
  );
  return rows[0]!;
}

async function existing(pool: Pool, requests: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM notification_requests WHERE id = ANY($1::uuid[])", [requests]);
  return rows[0]!.n;
}

const options = (more: Partial<RetentionOptions> = {}): RetentionOptions => ({ days: 30, batchSize: 10, intervalMs: 60_000, ...more });

describe("RetentionJob", () => {
  let env: TestEnv;
  let pool: Pool;
  beforeAll(async () => {
    env = await createTestEnv();
    pool = env.db.pool;
  });
  afterAll(() => env.cleanup());
  beforeEach(() => pool.query("TRUNCATE notification_requests, deliveries, delivery_attempts, dead_letters, outbox, digest_windows"));

  it("deletes old finished notifications a batch at a time, oldest first, with their deliveries, attempts and dead letters", async () => {
    await seed(pool, 25, 40, ["sent", "dead_lettered"]);
    const older = await seed(pool, 5, 50, ["failed", "suppressed", "cancelled", "throttled", "digested"]);
    expect(await counts(pool)).toEqual({ notification_requests: 30, deliveries: 75, delivery_attempts: 75, dead_letters: 25 });

    const job = new RetentionJob(pool, logger, options());
    const first = await job.runBatch();
    // The 5 oldest first (5 deliveries each), then 5 of the others (2 each, one dead letter each).
    expect(first).toEqual({
      deleted: { notification_requests: 10, deliveries: 35, delivery_attempts: 35, dead_letters: 5 },
      more: true,
      skipped: false,
    });
    expect(await existing(pool, older.requests)).toBe(0);

    expect(await job.runOnce()).toEqual({ notification_requests: 20, deliveries: 40, delivery_attempts: 40, dead_letters: 20 });
    expect(await counts(pool)).toEqual({ notification_requests: 0, deliveries: 0, delivery_attempts: 0, dead_letters: 0 });
    expect((await job.runBatch()).more).toBe(false);
  });

  it("keeps recent notifications and old ones that something can still happen to", async () => {
    const gone = await seed(pool, 3, 40, ["sent", "failed"]);
    const recent = await seed(pool, 3, 29, ["sent"]);
    const unfinished = await Promise.all(
      ["queued", "scheduled", "held", "processing", "retrying", "digesting"].map((status) => seed(pool, 1, 40, ["sent", status])),
    );
    // Old, but changed since the cutoff (a dead letter replayed yesterday and sent).
    const replayed = await seed(pool, 1, 40, ["sent", "sent"], 1);
    // Old and finished, but its message is still in the outbox, or it carries an open digest window.
    const inOutbox = await seed(pool, 1, 40, ["cancelled"]);
    await pool.query(`INSERT INTO outbox (exchange, routing_key, payload, headers) VALUES ('notifications.direct', 'email', $1, '{}')`, [
      JSON.stringify({ delivery_id: inOutbox.deliveries[0], request_id: inOutbox.requests[0], channel: "email" }),
    ]);
    const carrier = await seed(pool, 1, 40, ["sent"]);
    await pool.query(
      `INSERT INTO digest_windows (id, user_id, template_id, channel, digest_key, carrier_delivery_id, closes_at)
       VALUES (gen_random_uuid(), gen_random_uuid(), 't', 'email', 'k', $1, now() + interval '1 hour')`,
      [carrier.deliveries[0]],
    );
    // An old digest carrier whose folded deliveries belong to a notification that is kept.
    const folding = await seed(pool, 1, 40, ["sent"]);
    const folded = await seed(pool, 1, 20, ["digested"]);
    await pool.query("UPDATE deliveries SET digest_delivery_id = $1 WHERE id = ANY($2::uuid[])", [folding.deliveries[0], [folding.deliveries[0], ...folded.deliveries]]);
    // Dead letters: old with no delivery (a poison message) or a deleted one go; recent ones, and
    // old ones whose delivery is kept, stay.
    await pool.query(
      `INSERT INTO dead_letters (id, delivery_id, error_code, error, attempts, payload, headers, created_at) VALUES
         (gen_random_uuid(), NULL, 'poison', 'x', 0, '{}', '{}', now() - interval '40 days'),
         (gen_random_uuid(), gen_random_uuid(), 'provider_error', 'x', 1, '{}', '{}', now() - interval '40 days'),
         (gen_random_uuid(), NULL, 'poison', 'x', 0, '{}', '{}', now() - interval '2 days'),
         (gen_random_uuid(), $1, 'provider_error', 'x', 1, '{}', '{}', now() - interval '40 days')`,
      [unfinished[4]!.deliveries[1]],
    );

    const job = new RetentionJob(pool, logger, options());
    expect(await job.runOnce()).toEqual({ notification_requests: 3, deliveries: 6, delivery_attempts: 6, dead_letters: 2 });
    expect(await existing(pool, gone.requests)).toBe(0);
    const kept = [recent, ...unfinished, replayed, inOutbox, carrier, folding, folded].flatMap((s) => s.requests);
    expect(await existing(pool, kept)).toBe(kept.length);
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM dead_letters");
    expect(rows[0]!.n).toBe(2);

    // Once the outbox row is published, the window released and the folded deliveries gone, they go too.
    await pool.query("DELETE FROM outbox");
    await pool.query("DELETE FROM digest_windows");
    await pool.query("DELETE FROM notification_requests WHERE id = ANY($1::uuid[])", [folded.requests]);
    expect((await job.runOnce()).notification_requests).toBe(3);
    expect(await existing(pool, [...inOutbox.requests, ...carrier.requests, ...folding.requests])).toBe(0);
  });

  it("leaves a notification whose delivery another transaction holds, and takes it on a later sweep", async () => {
    const held = await seed(pool, 1, 40, ["sent", "dead_lettered"]);
    const free = await seed(pool, 2, 40, ["sent"]);
    const other = await pool.connect();
    try {
      await other.query("BEGIN");
      // A replay in flight: it has locked the dead-lettered delivery and will make it queued.
      await other.query("SELECT id FROM deliveries WHERE id = $1 FOR UPDATE", [held.deliveries[1]]);
      const job = new RetentionJob(pool, logger, options());
      expect((await job.runOnce()).notification_requests).toBe(2);
      expect(await existing(pool, free.requests)).toBe(0);
      expect(await existing(pool, held.requests)).toBe(1);
      await other.query("UPDATE deliveries SET status = 'queued', updated_at = now() WHERE id = $1", [held.deliveries[1]]);
      await other.query("COMMIT");
      // Now queued: kept.
      expect((await job.runOnce()).notification_requests).toBe(0);
      expect(await existing(pool, held.requests)).toBe(1);
    } finally {
      other.release();
    }
  });

  it("two sweepers at once delete every row exactly once, without an error", async () => {
    await seed(pool, 200, 40, ["sent", "dead_lettered"]);
    const pools = [env.db.pool, (await env.openRuntime("retention-b", {}, { waitForBroker: false })).db.pool];
    const deleted: RetentionDeleted[] = [];
    const warn = jest.fn();
    const jobs = pools.map((p) => new RetentionJob(p, { info: () => logger, warn }, options({ batchSize: 15, intervalMs: 5, onBatch: (d) => deleted.push(d) })));
    // While another process holds the sweep's lock, a batch does nothing and says so.
    const holder = await pool.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1, $2)", [0x48524c44, 1]);
      expect(await jobs[0]!.runBatch()).toMatchObject({ skipped: true, more: false, deleted: { notification_requests: 0 } });
      await holder.query("SELECT pg_advisory_unlock($1, $2)", [0x48524c44, 1]);
    } finally {
      holder.release();
    }
    // Straight calls racing, batch after batch...
    await Promise.all(jobs.map((j) => Promise.all([j.runBatch(), j.runBatch()])));
    // ...then both loops running until nothing is left.
    for (const job of jobs) job.start();
    await waitFor(async () => (await counts(pool)).notification_requests === 0, { what: "every old notification to go" });
    await Promise.all(jobs.map((j) => j.stop()));
    const sum = deleted.reduce((a, d) => ({
      notification_requests: a.notification_requests + d.notification_requests,
      deliveries: a.deliveries + d.deliveries,
      delivery_attempts: a.delivery_attempts + d.delivery_attempts,
      dead_letters: a.dead_letters + d.dead_letters,
    }));
    expect(sum).toEqual({ notification_requests: 200, deliveries: 400, delivery_attempts: 400, dead_letters: 200 });
    expect(await counts(pool)).toEqual({ notification_requests: 0, deliveries: 0, delivery_attempts: 0, dead_letters: 0 });
    expect(warn).not.toHaveBeenCalled();
  });

  it("finds each batch through indexes on a large table (EXPLAIN), even with a third of it past the cutoff", async () => {
    // 60,000 notifications over 90 days (a third older than 60 days), most sent, some queued.
    await pool.query(`
      INSERT INTO notification_requests (id, user_id, user_ref, variables, correlation_id, created_at)
        SELECT gen_random_uuid(), gen_random_uuid(), 'bulk', '{}', 'corr', now() - (i % 90) * interval '1 day' FROM generate_series(1, 60000) i;
      INSERT INTO deliveries (id, request_id, channel, status, created_at, updated_at)
        SELECT gen_random_uuid(), r.id, 'email', CASE WHEN random() < 0.1 THEN 'queued' ELSE 'sent' END::"DeliveryStatus", r.created_at, r.created_at
          FROM notification_requests r;
      INSERT INTO dead_letters (id, delivery_id, error_code, error, attempts, payload, headers, created_at)
        SELECT gen_random_uuid(), d.id, 'provider_error', 'x', 1, '{}', '{}', d.created_at FROM deliveries d WHERE random() < 0.3;
      ANALYZE notification_requests; ANALYZE deliveries; ANALYZE dead_letters;`);
    interface PlanNode {
      "Node Type": string;
      "Relation Name"?: string;
      "Index Name"?: string;
      Plans?: PlanNode[];
    }
    const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
    const explain = async (sql: string, values: unknown[]) => {
      const { rows } = await pool.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
      return nodes(rows[0]!["QUERY PLAN"][0]!.Plan);
    };
    const pick = await explain(PICK_SQL, [60, TERMINAL_STATUSES, 500]);
    expect(pick.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Relation Name"]).sort()).toEqual(["digest_windows", "outbox"]);
    expect(pick.map((n) => n["Index Name"]).filter(Boolean)).toEqual(
      expect.arrayContaining(["notification_requests_created_at_idx", "deliveries_request_id_channel_key"]),
    );
    const orphans = await explain(ORPHANS_SQL, [60, 500]);
    expect(orphans.filter((n) => n["Node Type"] === "Seq Scan")).toEqual([]);
    expect(orphans.map((n) => n["Index Name"]).filter(Boolean)).toEqual(expect.arrayContaining(["dead_letters_created_at_idx"]));
  });

  it("RETENTION_DAYS=0 keeps everything: no batch touches the database and start() runs nothing", async () => {
    await seed(pool, 5, 400, ["sent"]);
    const onBatch = jest.fn();
    const job = new RetentionJob(pool, logger, options({ days: 0, intervalMs: 1, onBatch }));
    expect(job.enabled).toBe(false);
    expect(await job.runBatch()).toEqual({ deleted: { notification_requests: 0, deliveries: 0, delivery_attempts: 0, dead_letters: 0 }, more: false, skipped: false });
    job.start();
    // Another sweep as a clock: once it has swept five times (keeping the rows, which are younger
    // than its 500 days), the disabled one would have had as many chances.
    const clock = jest.fn();
    const control = new RetentionJob(pool, logger, options({ days: 500, intervalMs: 1, onBatch: clock }));
    control.start();
    await waitFor(() => clock.mock.calls.length >= 5, { what: "five control sweeps" });
    await Promise.all([job.stop(), control.stop()]);
    expect(onBatch).not.toHaveBeenCalled();
    expect((await counts(pool)).notification_requests).toBe(5);
  });
});
