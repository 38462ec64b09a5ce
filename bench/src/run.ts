// npm run bench: the gateway's accepted sends/s and latency beside a trivial Express handler, the
// send-bulk rate beside single sends, and end-to-end emails/s beside pooled nodemailer straight
// into the same SMTP sink, all measured in this one run on this machine. Results (with the
// machine's notes) go to bench/results/.
import fs from "node:fs";
import path from "node:path";
import { API_KEY, machineNotes, prepare } from "./environment";
import { machineLoad, measureCpu, perUnit, type CpuUsage } from "./cpu";
import { endToEnd, rawSmtp } from "./email-bench";
import { load, withLoopUtilization, writerFigures, type LoadResult } from "./gateway-bench";
import { forkReady, ROOT, startApp, stop, waitReady } from "./processes";
import { purgeQueue } from "./queue";

const DURATION_S = 10;
const WARMUP_S = 3;
const USERS = 2000;
const MAILS = 10_000;
const SMTP_CONNECTIONS = 5;
const PORTS = { trivial: 18080, gateway: 18000, worker: 18001, sink: 12525 };

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Measured rounds: the trivial handler then the gateway, 10 s each, alternating. */
const ROUNDS = 3;

/**
 * A first pass that sends to every bench user once (the gateway meets each user for the first
 * time: its profile is read from PostgreSQL and cached), then WARMUP_S of warm-up. The first pass
 * is reported on its own: on a slow machine a fixed warm-up would otherwise leave part of it
 * inside the measured seconds.
 */
async function warmUp(url: string, userIds: string[]): Promise<LoadResult> {
  const firstPass = await load(url, userIds, { amount: userIds.length });
  await load(url, userIds, { durationS: WARMUP_S });
  return firstPass;
}

/**
 * The trivial handler and the gateway, measured in alternating rounds: this machine's speed drifts
 * by ±20% over a minute (other tenants), so each round's ratio compares two neighbouring 10 s
 * windows, and the round with the median ratio is the headline.
 */
async function gatewayRounds(servers: { trivial: Server; gateway: Server }, userIds: string[]): Promise<{ rounds: Round[]; median: Round }> {
  const rounds: Round[] = [];
  const loadOf = (server: Server) =>
    measureCpu({ [server.name]: server.pid, "load generator": process.pid }, () => load(server.url, userIds, { durationS: DURATION_S }));
  for (let i = 0; i < ROUNDS; i += 1) {
    const trivial = await loadOf(servers.trivial);
    const { result: full, loop } = await withLoopUtilization(servers.gateway.url, () => loadOf(servers.gateway));
    rounds.push({
      trivial: trivial.result,
      full: full.result,
      ratio: full.result.requestsPerSecond / trivial.result.requestsPerSecond,
      cpu: { trivial: trivial.cpu, full: full.cpu },
      gatewayLoop: loop,
    });
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  return { rounds, median };
}

interface Round {
  trivial: LoadResult;
  full: LoadResult;
  ratio: number;
  /** Where each side's CPU went during its 10 s. */
  cpu: { trivial: CpuUsage | undefined; full: CpuUsage | undefined };
  /** The share of the gateway's 10 s its event loop was busy. */
  gatewayLoop: number;
}

interface Server {
  name: string;
  url: string;
  pid: number | undefined;
}

/** `--only=gateway` stops after the gateway phases; `--profile` writes a CPU profile of the gateway. */
const ONLY_GATEWAY = process.argv.includes("--only=gateway");
/** `--only=email` skips the single-send load (for working on the worker). */
const ONLY_EMAIL = process.argv.includes("--only=email");
/** The gateway runs with the flags `npm start` gives it (apps/launcher/src/processes.ts). */
const GATEWAY_FLAGS = ["--max-semi-space-size=64"];
const PROFILE = process.argv.includes("--profile") ? ["--cpu-prof", `--cpu-prof-dir=${path.join(ROOT, "bench", "results", "profiles")}`] : [];

async function main(): Promise<void> {
  const notes = machineNotes();
  process.stdout.write("bench: preparing its own database, vhost and users...\n");
  const env = await prepare(USERS);
  const children = [];
  try {
    const none = { requestsPerSecond: NaN, p50Ms: NaN, p99Ms: NaN, total: 0, non2xx: 0, errors: 0 };
    const trivialUrl = `http://127.0.0.1:${PORTS.trivial}`;
    const gatewayUrl = `http://127.0.0.1:${PORTS.gateway}`;
    const gateway = startApp("api-gateway", { ...env.vars, GATEWAY_PORT: String(PORTS.gateway) }, [...PROFILE, ...GATEWAY_FLAGS]);
    children.push(gateway);
    await waitReady(PORTS.gateway);
    let firstPass = { trivial: none, full: none };
    let measured: { rounds: Round[]; median: Round } = { rounds: [], median: { trivial: none, full: none, ratio: NaN, cpu: { trivial: undefined, full: undefined }, gatewayLoop: NaN } };
    if (!ONLY_EMAIL) {
      const server = await forkReady("trivial-server", [String(PORTS.trivial)]);
      children.push(server);
      process.stdout.write("bench: first pass and warm-up of the trivial Express handler and the gateway...\n");
      firstPass = { trivial: await warmUp(trivialUrl, env.userIds), full: await warmUp(gatewayUrl, env.userIds) };
      process.stdout.write(`bench: ${ROUNDS} rounds of ${DURATION_S} s each, trivial handler then POST /notifications/send...\n`);
      measured = await gatewayRounds(
        { trivial: { name: "trivial handler", url: trivialUrl, pid: server.pid }, gateway: { name: "gateway", url: gatewayUrl, pid: gateway.pid } },
        env.userIds,
      );
      await stop(server);
    }
    const { full, ratio } = measured.median;
    const writes = await writerFigures(gatewayUrl);
    const accepted = await env.db.prisma.notificationRequest.count();
    if (ONLY_GATEWAY) {
      for (const r of measured.rounds) {
        process.stdout.write(
          `trivial ${fmt(r.trivial.requestsPerSecond)}/s p99 ${r.trivial.p99Ms} ms; gateway ${fmt(r.full.requestsPerSecond)}/s p50 ${r.full.p50Ms} p99 ${r.full.p99Ms} ms, ` +
            `event loop busy ${fmt(100 * r.gatewayLoop)}%; ratio ${fmt(r.ratio, 2)}x\n`,
        );
      }
      process.stdout.write(`median round, CPU ms per request: trivial side ${perUnit(measured.median.cpu.trivial, measured.median.trivial.total)}; gateway side ${perUnit(measured.median.cpu.full, full.total)}; machine during the gateway: ${machineLoad(measured.median.cpu.full)}\n`);
      process.stdout.write(`median ratio ${fmt(ratio, 2)}x; first pass ${fmt(firstPass.full.requestsPerSecond)}/s; ${fmt(writes.sendsPerWrite, 1)} sends per write of ${fmt(writes.meanWriteMs, 1)} ms; rows ${accepted}\n`);
      return;
    }

    process.stdout.write("bench: SMTP sink, pooled nodemailer straight into it (the ceiling)...\n");
    const sink = await forkReady("smtp-sink", [String(PORTS.sink)]);
    children.push(sink);
    const { result: raw, cpu: rawCpu } = await measureCpu({ "nodemailer (the bench process)": process.pid, "SMTP sink": sink.pid }, () =>
      rawSmtp(sink, PORTS.sink, MAILS, SMTP_CONNECTIONS),
    );

    process.stdout.write("bench: a burst of 10,000 through send-bulk, the broker and the email worker into the sink...\n");
    // The single-send load above left its messages in email.queue: start from an empty queue.
    await purgeQueue(env.vars.RABBITMQ_URL!, "email.queue");
    const worker = startApp("email-worker", {
      ...env.vars,
      EMAIL_WORKER_PORT: String(PORTS.worker),
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(PORTS.sink),
      SMTP_MAX_CONNECTIONS: String(SMTP_CONNECTIONS),
    }, PROFILE);
    children.push(worker);
    await waitReady(PORTS.worker);
    const {
      result: { result: e2e, cpu: e2eCpu },
      loop: workerLoop,
    } = await withLoopUtilization(`http://127.0.0.1:${PORTS.worker}`, () =>
      measureCpu(
        { "email worker": worker.pid, gateway: gateway.pid, "SMTP sink": sink.pid, "send-bulk client (the bench process)": process.pid },
        () => endToEnd(sink, `http://127.0.0.1:${PORTS.gateway}`, API_KEY, env.userIds, MAILS),
      ),
    );
    // The last "sent" records are written a few milliseconds after the mail reached the sink.
    let sent = 0;
    for (let i = 0; i < 100 && sent < MAILS; i += 1) {
      sent = await env.db.prisma.delivery.count({ where: { status: "sent" } });
      if (sent < MAILS) await new Promise((r) => setTimeout(r, 100));
    }

    const e2eRatio = e2e.perSecond / raw.perSecond;
    const bulkRate = MAILS / e2e.acceptSeconds;
    const at = new Date();
    const results = {
      at: at.toISOString(),
      machine: notes,
      settings: { duration_s: DURATION_S, warmup_s: WARMUP_S, connections: 50, users: USERS, mails: MAILS, smtp_connections: SMTP_CONNECTIONS, log_level: "warn" },
      gateway: { rounds: measured.rounds, median: measured.median, first_pass: firstPass, accepted_rows: accepted, writes },
      bulk: { accepted_per_second: bulkRate, single_per_second: full.requestsPerSecond, ratio: bulkRate / full.requestsPerSecond },
      email: { raw_smtp: raw, end_to_end: e2e, ratio: e2eRatio, deliveries_sent: sent, cpu: { raw_smtp: rawCpu, end_to_end: e2eCpu }, worker_event_loop_busy: workerLoop },
    };
    const md = [
      `# Benchmark ${at.toISOString()}`,
      "",
      `Machine: ${notes.cpu}, ${notes.memory}, ${notes.os}; Node ${notes.node}; ${notes.postgresql}; ${notes.redis}; RabbitMQ ${notes.rabbitmq}.`,
      `Everything (load generator, processes, PostgreSQL, Redis, RabbitMQ, SMTP sink) on this one machine. LOG_LEVEL=warn.`,
      "",
      "## Gateway: POST /notifications/send, autocannon, 50 connections",
      "",
      `A first pass over the ${fmt(USERS)} users and ${WARMUP_S} s of warm-up on each server, then ${ROUNDS} rounds of ${DURATION_S} s: ` +
        "the trivial handler, then the gateway. Each round's ratio compares two neighbouring windows; the median round is the headline.",
      "",
      "| round | trivial Express handler answering 202 (ceiling) req/s, p50/p99 ms | full gateway path req/s, p50/p99 ms | gateway event loop busy | non-2xx / errors | ratio |",
      "|---|---:|---:|---:|---:|---:|",
      ...measured.rounds.map(
        (r, i) =>
          `| ${i + 1}${r === measured.median ? " (median)" : ""} | ${fmt(r.trivial.requestsPerSecond)}, ${r.trivial.p50Ms}/${r.trivial.p99Ms} | ` +
          `${fmt(r.full.requestsPerSecond)}, ${r.full.p50Ms}/${r.full.p99Ms} | ${fmt(100 * r.gatewayLoop)}% | ${r.full.non2xx} / ${r.full.errors} | ${fmt(r.ratio, 2)}x |`,
      ),
      "",
      `Full path / ceiling (median round): **${fmt(ratio, 2)}x** (target >= 0.5x, p99 <= 50 ms). Rows written: ${accepted}; ` +
        `${fmt(writes.sendsPerWrite, 1)} sends per write statement, ${fmt(writes.meanWriteMs, 1)} ms per write.`,
      "",
      ...cpuLines(measured.median),
      "",
      `First pass (each of the ${fmt(USERS)} users once, profiles not yet cached): full path ${fmt(firstPass.full.requestsPerSecond)}/s, ` +
        `p99 ${firstPass.full.p99Ms} ms; trivial handler ${fmt(firstPass.trivial.requestsPerSecond)}/s.`,
      "",
      "## send-bulk vs single sends",
      "",
      `send-bulk accepted ${fmt(MAILS)} notifications in ${fmt(e2e.acceptSeconds, 2)} s = **${fmt(bulkRate)}/s**, ` +
        `${fmt(bulkRate / full.requestsPerSecond, 1)}x the single-send rate above (while the email worker was draining them).`,
      "",
      `## Email end to end: a burst of ${fmt(MAILS)}, ${SMTP_CONNECTIONS} SMTP connections`,
      "",
      "| | mails/s | seconds | duplicates |",
      "|---|---:|---:|---:|",
      `| pooled nodemailer straight into the sink (ceiling) | ${fmt(raw.perSecond)} | ${fmt(raw.seconds, 2)} | ${raw.duplicates} |`,
      `| send-bulk -> PostgreSQL -> RabbitMQ -> email worker -> sink | ${fmt(e2e.perSecond)} | ${fmt(e2e.seconds, 2)} | ${e2e.duplicates} |`,
      "",
      `End to end / ceiling: **${fmt(e2eRatio, 2)}x** (target >= 0.8x). Deliveries recorded sent: ${sent}.`,
      "",
      "Where the CPU went, in ms per mail (whole phase; for end to end, from the first send-bulk request to the last mail):",
      "",
      `- pooled nodemailer: ${perUnit(rawCpu, raw.mails)}; machine ${machineLoad(rawCpu)}.`,
      `- end to end: ${perUnit(e2eCpu, e2e.mails)}; machine ${machineLoad(e2eCpu)}. The email worker's event loop was busy ${fmt(100 * workerLoop)}% of the time.`,
      ...atTarget(e2eCpu, e2e.mails, 0.8 * raw.perSecond, "0.8x of the raw rate"),
      "",
    ].join("\n");
    if (ONLY_EMAIL) {
      // A partial run: shown, not kept beside the full runs' results.
      process.stdout.write(`\n${md}\nbench: --only=email, nothing written to bench/results\n`);
      return;
    }
    const dir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    const stamp = at.toISOString().replace(/[:.]/g, "-").slice(0, 19);
    fs.writeFileSync(path.join(dir, `${stamp}.md`), md);
    fs.writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(dir, "latest.md"), md);
    process.stdout.write(`\n${md}\nbench: written to bench/results/${stamp}.md\n`);
  } finally {
    for (const child of children.reverse()) await stop(child);
    await env.close();
  }
}

/** The gateway rounds' CPU, per request, for the median round. */
function cpuLines(median: Round): string[] {
  const { trivial, full, cpu } = median;
  if (!cpu.full) return [];
  const target = 0.5 * trivial.requestsPerSecond;
  const gatewaySeconds = (cpu.full.components.gateway ?? NaN) / full.total;
  return [
    `Where the CPU went in the median round, in ms per request: trivial side ${perUnit(cpu.trivial, trivial.total)}; ` +
      `gateway side ${perUnit(cpu.full, full.total)}. Machine during the gateway's 10 s: ${machineLoad(cpu.full)}.`,
    ...atTarget(cpu.full, full.total, target, "0.5x of the trivial handler's rate"),
    `The gateway process alone would need ${fmt(gatewaySeconds * target, 2)} cores at that rate (one Node process runs its JavaScript on one).`,
  ];
}

/** What the measured cost per unit would take at a target rate: all components, in cores. */
function atTarget(cpu: CpuUsage | undefined, units: number, rate: number, label: string): string[] {
  if (!cpu || units <= 0) return [];
  const perUnitSeconds = Object.values(cpu.components).reduce((a, b) => a + b, 0) / units;
  return [`At ${label} (${fmt(rate)}/s), these costs would add up to ${fmt(perUnitSeconds * rate, 2)} cores; the machine has ${Math.round(cpu.machine.cores)}.`];
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
