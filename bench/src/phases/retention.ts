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
import { metricsText } from "../gateway-bench";

const RETENTION_DAYS = 30;
const METRIC = "retention_deleted_rows_total";
/** RETENTION_INTERVAL of the "on" side (a bare number would be read as seconds: "1000ms"). */
const INTERVAL_MS = 1000;

/** The sum of every series of the metric on these processes; undefined when none of them has it. */
async function deletedRows(urls: string[]): Promise<{ total: number; tables: Record<string, number> } | undefined> {
  let found = false;
  const tables: Record<string, number> = {};
  for (const url of urls) {
    const text = await metricsText(url).catch((error: unknown) => {
      process.stderr.write(`bench: retention: ${url}/metrics: ${error instanceof Error ? error.message : String(error)}\n`);
      return "";
    });
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
  /** The metric every half second from the moment the processes were ready (undefined: absent). */
  samples: { at: number; deleted: Awaited<ReturnType<typeof deletedRows>> }[];
  readyAt: number;
  endAt: number;
}

async function side(bench: Bench, settings: Record<string, string>, label: string): Promise<Side> {
  // Counted before the processes start: the job may begin at once.
  const oldBefore = await oldRequests(bench);
  const gateway = await bench.gateway(settings);
  await bench.purgeEmailQueue();
  const [worker] = await bench.workers(1, settings);
  const readyAt = Date.now();
  const urls = [gateway.url, worker!.url];
  const samples: Side["samples"] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push({ at: Date.now(), deleted: await deletedRows(urls) });
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const measure = await steadyLoad(bench, gateway, bench.sizes.steadyRate, bench.sizes.retentionSeconds, { gateway: gateway.pid, "email worker": worker!.pid }, label);
  sampling = false;
  await sampler;
  const endAt = Date.now();
  samples.push({ at: endAt, deleted: await deletedRows(urls) });
  const oldAfter = await oldRequests(bench);
  await bench.stopWorkers();
  const cpuMsPerSend = (1000 * cpuOf(measure.cpu.cpu, (n) => n !== OPEN_LOOP_CLIENT)) / measure.load.accepted;
  return { measure, cpuMsPerSend, oldBefore, oldAfter, samples, readyAt, endAt };
}

/**
 * Rows per second while the job ran: from its first sweep (one interval after the processes were
 * ready) to the last sample that saw the count grow when it ran out of old rows, else to the end.
 */
function sweepRate(s: Side, intervalMs: number): { rows: number; tables: Record<string, number>; seconds: number; ranOut: boolean } {
  // A counter only grows while its process lives: the largest sample is the latest count.
  const last = s.samples.reduce<Side["samples"][number]["deleted"]>((best, x) => ((x.deleted?.total ?? -1) > (best?.total ?? -1) ? x.deleted : best), undefined);
  const rows = last?.total ?? 0;
  const ranOut = s.oldAfter === 0;
  const doneAt = ranOut ? (s.samples.find((x) => (x.deleted?.total ?? 0) >= rows)?.at ?? s.endAt) : s.endAt;
  return { rows, tables: last?.tables ?? {}, seconds: Math.max(0.5, (doneAt - s.readyAt - intervalMs) / 1000), ranOut };
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
    bench.log(`retention: the same with the job on (RETENTION_DAYS=${RETENTION_DAYS}, RETENTION_INTERVAL=${INTERVAL_MS}ms)...`);
    const on = await side(bench, { RETENTION_DAYS: String(RETENTION_DAYS), RETENTION_INTERVAL: `${INTERVAL_MS}ms` }, "Steady load, retention on");
    const present = on.samples.some((x) => x.deleted !== undefined);
    const removedByCount = on.oldBefore - on.oldAfter;
    const sweep = sweepRate(on, INTERVAL_MS);
    const metricRows = present ? sweep.rows : NaN;
    const cpuChange = on.cpuMsPerSend / off.cpuMsPerSend - 1;
    const job = present
      ? `The job removed ${fmt(metricRows)} rows (all tables, from ${METRIC}: ${JSON.stringify(sweep.tables)}), ${fmt(removedByCount)} old notifications by count, ` +
        `in ${fmt(sweep.seconds, 1)} s from its first sweep: **${fmt(metricRows / sweep.seconds)} rows/s**, ${fmt(removedByCount / sweep.seconds)} notifications/s` +
        `${sweep.ranOut ? " (it ran out of old rows: the time is to the first sample that saw the last of them gone)" : " (still going at the end of the load)"}.`
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
          metric_tables: present ? sweep.tables : null,
          sweep_seconds: num(sweep.seconds, 1),
          ran_out_of_old_rows: sweep.ranOut,
          rows_per_second: num(metricRows / sweep.seconds, 0),
          notifications_per_second_counted: num(removedByCount / sweep.seconds, 0),
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
