// retention: the retention job (RETENTION_DAYS, RETENTION_BATCH_SIZE, RETENTION_INTERVAL; metric
// retention_deleted_rows_total{table}) over retentionRows old terminal notifications: the CPU per
// send of a steady load with the job off (RETENTION_DAYS=0) and on (a 1 s interval), and the rows
// it removed per second. Both settings go to the gateway and the worker (whichever runs the job).
// Without the job (the metric never appears on any process), it says so and measures the rest.
import type { Bench } from "../context";
import { fmt, num, type PhaseResult } from "../report";
import { seedAttempts, seedRequests, seedUsers } from "./seed";
import { OPEN_LOOP_CLIENT, steadyLoad, type SteadyMeasure } from "./steady";
import { cpuOf } from "../cpu";

const RETENTION_DAYS = 30;
const METRIC = "retention_deleted_rows_total";

/** The sum of every series of the metric on these processes; undefined when none of them has it. */
async function deletedRows(urls: string[]): Promise<{ total: number; tables: Record<string, number> } | undefined> {
  let found = false;
  const tables: Record<string, number> = {};
  for (const url of urls) {
    const text = await fetch(`${url}/metrics`).then((r) => r.text(), () => "");
    for (const m of text.matchAll(new RegExp(`^${METRIC}\\{([^}]*)\\} (\\S+)$`, "gm"))) {
      found = true;
      const table = /table="([^"]*)"/.exec(m[1]!)?.[1] ?? "?";
      tables[table] = (tables[table] ?? 0) + Number(m[2]);
    }
    if (new RegExp(`^# TYPE ${METRIC} `, "m").test(text)) found = true;
  }
  return found ? { total: Object.values(tables).reduce((a, b) => a + b, 0), tables } : undefined;
}

const oldRequests = async (bench: Bench) =>
  (await bench.env.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM notification_requests WHERE created_at < now() - make_interval(days => $1)`, [RETENTION_DAYS]))
    .rows[0]!.n;

interface Side {
  measure: SteadyMeasure;
  cpuMsPerSend: number;
  oldBefore: number;
  oldAfter: number;
  metric: { before: Awaited<ReturnType<typeof deletedRows>>; after: Awaited<ReturnType<typeof deletedRows>> };
}

async function side(bench: Bench, settings: Record<string, string>, label: string): Promise<Side> {
  const gateway = await bench.gateway(settings);
  await bench.purgeEmailQueue();
  const [worker] = await bench.workers(1, settings);
  const urls = [gateway.url, worker!.url];
  const oldBefore = await oldRequests(bench);
  const before = await deletedRows(urls);
  const measure = await steadyLoad(bench, bench.sizes.steadyRate, bench.sizes.retentionSeconds, { gateway: gateway.pid, "email worker": worker!.pid }, label);
  const after = await deletedRows(urls);
  const oldAfter = await oldRequests(bench);
  await bench.stopWorkers();
  const cpuMsPerSend = (1000 * cpuOf(measure.cpu.cpu, (n) => n !== OPEN_LOOP_CLIENT)) / measure.load.accepted;
  return { measure, cpuMsPerSend, oldBefore, oldAfter, metric: { before, after } };
}

export async function retentionPhase(bench: Bench): Promise<PhaseResult> {
  const { sizes, env } = bench;
  const pool = env.db.pool;
  const rows = sizes.retentionRows;
  bench.log(`retention: writing ${fmt(rows)} terminal notifications ${RETENTION_DAYS + 5} to ${RETENTION_DAYS + 65} days old...`);
  await seedUsers(pool, env.userIds, 1000);
  for (let first = 1; first <= rows; first += 100_000) {
    await seedRequests(pool, { first, count: Math.min(100_000, rows - first + 1), total: rows, days: 60, endDaysAgo: RETENTION_DAYS + 5, terminalOnly: true, prefix: "old" });
  }
  const attempts = await seedAttempts(pool);
  await pool.query("VACUUM ANALYZE notification_requests, deliveries, delivery_attempts");
  try {
    bench.log(`retention: ${sizes.steadyRate} sends/s for ${sizes.retentionSeconds} s with the job off (RETENTION_DAYS=0)...`);
    const off = await side(bench, { RETENTION_DAYS: "0" }, "Steady load, retention off");
    bench.log(`retention: the same with the job on (RETENTION_DAYS=${RETENTION_DAYS}, RETENTION_INTERVAL=1000)...`);
    const started = Date.now();
    const on = await side(bench, { RETENTION_DAYS: String(RETENTION_DAYS), RETENTION_INTERVAL: "1000" }, "Steady load, retention on");
    const seconds = (Date.now() - started) / 1000;
    const present = on.metric.after !== undefined;
    const removedByCount = on.oldBefore - on.oldAfter;
    const metricRows = present ? on.metric.after!.total - (on.metric.before?.total ?? 0) : NaN;
    const cpuChange = on.cpuMsPerSend / off.cpuMsPerSend - 1;
    const job = present
      ? `The job removed ${fmt(metricRows)} rows (all tables, from ${METRIC}; ${JSON.stringify(on.metric.after!.tables)}) and ${fmt(removedByCount)} old notifications (counted) ` +
        `while the load ran: **${fmt(metricRows / on.measure.load.seconds)} rows/s**, ${fmt(removedByCount / on.measure.load.seconds)} notifications/s` +
        `${on.oldAfter === 0 ? " (it ran out of old rows: a lower bound)" : ""}.`
      : `**retention job not present**: ${METRIC} never appeared on the gateway's or the worker's /metrics, and ${fmt(removedByCount)} old notifications went away.`;
    bench.log(`retention: ${job.replace(/\*\*/g, "")} CPU per send off ${fmt(off.cpuMsPerSend, 2)} ms, on ${fmt(on.cpuMsPerSend, 2)} ms`);
    return {
      headline: {},
      details: {
        seeded: { rows, attempts, retention_days: RETENTION_DAYS },
        job_present: present,
        off: { cpu_ms_per_send: num(off.cpuMsPerSend), accept_p99_ms: num(off.measure.load.acceptP99Ms, 1), old_before: off.oldBefore, old_after: off.oldAfter },
        on: {
          cpu_ms_per_send: num(on.cpuMsPerSend),
          accept_p99_ms: num(on.measure.load.acceptP99Ms, 1),
          old_before: on.oldBefore,
          old_after: on.oldAfter,
          metric_rows: num(metricRows, 0),
          metric_tables: on.metric.after?.tables ?? null,
          rows_per_second: num(metricRows / on.measure.load.seconds, 0),
          notifications_per_second_counted: num(removedByCount / on.measure.load.seconds, 0),
          window_seconds: num(seconds, 1),
        },
        cpu_per_send_change: num(cpuChange),
      },
      lines: [
        `${fmt(rows)} terminal notifications ${RETENTION_DAYS + 5} to ${RETENTION_DAYS + 65} days old (${fmt(attempts)} attempt rows), then ${sizes.steadyRate} sends/s (open loop) for ${sizes.retentionSeconds} s ` +
          `through the gateway and one email worker, with the job off and then on.`,
        `CPU per send, all processes: off ${fmt(off.cpuMsPerSend, 2)} ms, on ${fmt(on.cpuMsPerSend, 2)} ms (${fmt(100 * cpuChange, 1)}%); accept p99 off ${fmt(off.measure.load.acceptP99Ms, 1)} ms, on ${fmt(on.measure.load.acceptP99Ms, 1)} ms. ` +
          `Old notifications during the off window: ${fmt(off.oldBefore)} -> ${fmt(off.oldAfter)}.`,
        job,
      ],
      cpu: [off.measure.cpu, on.measure.cpu],
    };
  } finally {
    await pool.query("TRUNCATE notification_requests CASCADE");
    await pool.query("DELETE FROM users WHERE email LIKE 'seed%@example.com'");
    await pool.query("DROP TABLE IF EXISTS seed_users");
  }
}
