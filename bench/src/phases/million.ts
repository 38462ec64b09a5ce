// million: the gateway's rate and the end-to-end CPU per mail on the bench's (nearly empty)
// database, then again with millionRows notifications (with their deliveries and attempts)
// written straight in SQL; then GET /notifications with each list filter, timed at p99, with
// PostgreSQL's plan of each (EXPLAIN ANALYZE: index scans expected). The seeded rows are removed
// at the end, so the phases after it start from the same database as before it.
import { decodeCursor } from "@herald/db";
import { searchStatement, type ListFilter } from "@herald/notifications";
import type { Bench } from "../context";
import { measuredEndToEnd, pipelineCpu } from "../email-bench";
import { API_KEY } from "../environment";
import { fmt, num, percentile, type CpuTable, type PhaseResult } from "../report";
import { measuredLoad, serverCpu, warmUp } from "./gateway";
import { seedAttempts, seedRequests, seedUsers, SEED_TEMPLATES } from "./seed";

interface Side {
  rate: number;
  p99Ms: number;
  cpuMsPerSend: number;
  e2eRate: number;
  e2eCpuMsPerMail: number;
  tables: CpuTable[];
}

async function measureSide(bench: Bench, label: string): Promise<Side> {
  const { sizes, env } = bench;
  const gateway = await bench.gateway();
  await warmUp(gateway.url, env.userIds, sizes.warmupSeconds, sizes.connections);
  const g = await measuredLoad("gateway", gateway.url, gateway.pid, env.userIds, sizes.millionGatewaySeconds, sizes.connections);
  const e = await measuredEndToEnd(bench, sizes.millionMails);
  return {
    rate: g.result.accepted / sizes.millionGatewaySeconds,
    p99Ms: g.result.p99Ms,
    cpuMsPerSend: (1000 * serverCpu(g.cpu)) / g.result.accepted,
    e2eRate: e.result.perSecond,
    e2eCpuMsPerMail: (1000 * pipelineCpu(e.cpu)) / sizes.millionMails,
    tables: [
      { label: `Gateway, ${label}`, units: g.result.accepted, unit: "accepted send", cpu: g.cpu },
      { label: `End to end, ${label}`, units: sizes.millionMails, unit: "mail", cpu: e.cpu },
    ],
  };
}

/** One list filter: the query string of its i-th call, and the ListFilter its plan is taken for. */
interface ListCase {
  name: string;
  query: (i: number) => string;
  filter: ListFilter;
}

function listCases(userIds: string[], rows: number, firstCursor: string | undefined): ListCase[] {
  const day = 86_400_000;
  const dayStart = (i: number) => new Date(Date.now() - (1 + (i % 80)) * day);
  const idem = (i: number) => `seed-idem-${1 + ((i * 7919) % rows)}`;
  const statuses = ["failed", "dead_lettered", "suppressed", "sent"] as const;
  const channels = ["sms", "push", "webhook"] as const;
  const before = firstCursor ? decodeCursor(firstCursor) : undefined;
  return [
    { name: "user_id", query: (i) => `user_id=${userIds[i % Math.min(20, userIds.length)]}`, filter: { limit: 50 } },
    { name: "status", query: (i) => `status=${statuses[i % statuses.length]}`, filter: { limit: 50, status: "failed" } },
    { name: "channel", query: (i) => `channel=${channels[i % channels.length]}`, filter: { limit: 50, channel: "sms" } },
    { name: "status and channel", query: () => `status=failed&channel=sms`, filter: { limit: 50, status: "failed", channel: "sms" } },
    { name: "template_id", query: (i) => `template_id=${SEED_TEMPLATES[i % SEED_TEMPLATES.length]}`, filter: { limit: 50, templateId: "invoice_ready" } },
    { name: "idempotency_key", query: (i) => `idempotency_key=${idem(i)}`, filter: { limit: 50, idempotencyKey: idem(1) } },
    {
      name: "time range (one day)",
      query: (i) => `from=${dayStart(i).toISOString()}&to=${new Date(dayStart(i).getTime() + day).toISOString()}`,
      filter: { limit: 50, from: dayStart(3), to: new Date(dayStart(3).getTime() + day) },
    },
    { name: "cursor page 2", query: () => `cursor=${encodeURIComponent(firstCursor ?? "")}`, filter: { limit: 50, ...(before ? { before } : {}) } },
  ];
}

async function get(url: string): Promise<{ ms: number; status: number; body: { meta?: { next_cursor?: string } } }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { "x-api-key": API_KEY } });
  const body = (await res.json()) as { meta?: { next_cursor?: string } };
  return { ms: performance.now() - started, status: res.status, body };
}

export async function millionPhase(bench: Bench): Promise<PhaseResult> {
  const { sizes, env } = bench;
  const pool = env.db.pool;
  const rows = sizes.millionRows;
  // The phases before this one left their sends: "empty" means empty.
  await pool.query("TRUNCATE notification_requests CASCADE");
  await pool.query("VACUUM ANALYZE notification_requests, deliveries, delivery_attempts");
  bench.log("million: gateway rate and end-to-end CPU per mail on the empty database...");
  const empty = await measureSide(bench, "empty database");

  bench.log(`million: writing ${fmt(rows)} notifications with their deliveries and attempts in SQL...`);
  const seedStarted = Date.now();
  let attempts = 0;
  try {
    await seedUsers(pool, env.userIds, Math.max(1000, Math.round(rows / 20)));
    const chunk = 100_000;
    for (let first = 1; first <= rows; first += chunk) {
      await seedRequests(pool, { first, count: Math.min(chunk, rows - first + 1), total: rows, days: 90, endDaysAgo: 0, prefix: "seed" });
      if (rows > chunk) bench.log(`million: ${fmt(Math.min(rows, first + chunk - 1))} of ${fmt(rows)}...`);
    }
    attempts = await seedAttempts(pool);
    await pool.query("VACUUM ANALYZE notification_requests, deliveries, delivery_attempts, users");
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const counts = (
      await pool.query<{ requests: number; deliveries: number }>(
        "SELECT (SELECT count(*) FROM notification_requests)::int AS requests, (SELECT count(*) FROM deliveries)::int AS deliveries",
      )
    ).rows[0]!;
    bench.log(`million: seeded in ${fmt(seedSeconds)} s (${fmt(counts.requests)} requests, ${fmt(counts.deliveries)} deliveries, ${fmt(attempts)} attempts); measuring again...`);
    const full = await measureSide(bench, `${fmt(rows)} notifications`);

    bench.log(`million: GET /notifications with each list filter, ${sizes.listCalls} calls each...`);
    const gateway = await bench.gateway();
    const page1 = await get(`${gateway.url}/notifications`);
    const cases = listCases(env.userIds, rows, page1.body.meta?.next_cursor);
    const lists: Record<string, unknown>[] = [];
    for (const c of cases) {
      const times: number[] = [];
      let failures = 0;
      for (let i = 0; i < sizes.listCalls; i += 1) {
        const r = await get(`${gateway.url}/notifications?${c.query(i)}`);
        if (r.status !== 200) failures += 1;
        times.push(r.ms);
      }
      const userIds = c.name === "user_id" ? [env.userIds[0]!] : undefined;
      const statement = searchStatement(c.filter, userIds);
      const plan = (await pool.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values)).rows.map((r) => r["QUERY PLAN"]).join("\n");
      const execution = Number(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? NaN);
      // An index scan can still read far more than it returns: rows its filters threw away.
      const removed = [...plan.matchAll(/Rows Removed by (?:Filter|Join Filter): (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      lists.push({
        filter: c.name,
        calls: times.length,
        failures,
        p50_ms: num(percentile(times, 50), 1),
        p99_ms: num(percentile(times, 99), 1),
        seq_scan: /Seq Scan/.test(plan),
        execution_ms: num(execution, 2),
        rows_removed_by_filter: removed,
        statement: statement.text,
        plan,
      });
    }
    const change = full.rate / empty.rate - 1;
    const notIndexed = lists.filter((l) => l.seq_scan).map((l) => l.filter as string);
    bench.log(
      `million: gateway ${fmt(empty.rate)} -> ${fmt(full.rate)} sends/s (${fmt(100 * change, 1)}%), e2e CPU ${fmt(empty.e2eCpuMsPerMail, 2)} -> ${fmt(full.e2eCpuMsPerMail, 2)} ms per mail; ` +
        `not an index scan: ${notIndexed.length > 0 ? notIndexed.join(", ") : "none"}`,
    );
    return {
      headline: { million_rows_rate_change: num(change) },
      details: {
        rows,
        seed_seconds: num(seedSeconds, 1),
        seeded: { ...counts, attempts },
        empty: { ...empty, tables: undefined },
        full: { ...full, tables: undefined },
        gateway_rate_change: num(change),
        gateway_cpu_per_send_change: num(full.cpuMsPerSend / empty.cpuMsPerSend - 1),
        e2e_rate_change: num(full.e2eRate / empty.e2eRate - 1),
        e2e_cpu_per_mail_change: num(full.e2eCpuMsPerMail / empty.e2eCpuMsPerMail - 1),
        lists,
        not_index_scans: notIndexed,
      },
      lines: [
        `${fmt(rows)} notifications over 90 days (${fmt(counts.deliveries)} deliveries, ${fmt(attempts)} attempt rows, ${fmt(Math.max(1000, Math.round(rows / 20)))} more users, skewed), written in ${fmt(seedSeconds)} s, then VACUUM ANALYZE.`,
        "| | empty database | with the rows | change |\n|---|---:|---:|---:|\n" +
          [
            ["gateway accepted sends/s", empty.rate, full.rate],
            ["gateway p99 ms", empty.p99Ms, full.p99Ms],
            ["gateway CPU ms per send (all but the load generator)", empty.cpuMsPerSend, full.cpuMsPerSend],
            ["end to end mails/s", empty.e2eRate, full.e2eRate],
            ["end to end CPU ms per mail", empty.e2eCpuMsPerMail, full.e2eCpuMsPerMail],
          ]
            .map(([name, a, b]) => `| ${String(name)} | ${fmt(Number(a), 2)} | ${fmt(Number(b), 2)} | ${fmt(100 * (Number(b) / Number(a) - 1), 1)}% |`)
            .join("\n"),
        `GET /notifications (limit 50, through the gateway, ${sizes.listCalls} calls each, one at a time), and PostgreSQL's plan of the page query:`,
        "| filter | p50 ms | p99 ms | plan execution ms | rows removed by filters | index scans only |\n|---|---:|---:|---:|---:|---|\n" +
          lists
            .map(
              (l) =>
                `| ${String(l.filter)} | ${fmt(Number(l.p50_ms), 1)} | ${fmt(Number(l.p99_ms), 1)} | ${fmt(Number(l.execution_ms), 2)} | ${fmt(Number(l.rows_removed_by_filter))} | ${l.seq_scan ? "**no: Seq Scan**" : "yes"} |`,
            )
            .join("\n"),
        `Not an index scan: ${notIndexed.length > 0 ? notIndexed.join(", ") : "none"}. The plans are in the JSON (phases.million.lists[].plan).`,
      ],
      cpu: [...empty.tables, ...full.tables],
    };
  } finally {
    // The phases after this one start from the database they would have had without it.
    await pool.query("TRUNCATE notification_requests CASCADE");
    await pool.query("DELETE FROM users WHERE email LIKE 'seed%@example.com'");
    await pool.query("DROP TABLE IF EXISTS seed_users");
  }
}
