// npm run bench: the gateway's accepted sends/s and latency beside a trivial Express handler, the
// send-bulk rate beside single sends, and end-to-end emails/s beside pooled nodemailer straight
// into the same SMTP sink, all measured in this one run on this machine. Results (with the
// machine's notes) go to bench/results/.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { measureCpu } from "./cpu";
import { endToEnd, rawSmtp } from "./email-bench";
import { API_KEY, machineNotes, prepare, type BenchEnvironment } from "./environment";
import { load, withLoopUtilization, writerFigures, type LoadResult } from "./gateway-bench";
import { forkReady, ROOT, startApp, stop, waitReady } from "./processes";
import { purgeQueue } from "./queue";
import { gatewaySummary, toJson, toMarkdown, type EmailMeasure, type GatewayMeasure, type Results, type Round, type Settings } from "./report";

const DURATION_S = 10;
const WARMUP_S = 3;
const USERS = 2000;
const MAILS = 10_000;
const SMTP_CONNECTIONS = 5;
const PORTS = { trivial: 18080, gateway: 18000, worker: 18001, sink: 12525 };
const URLS = { trivial: `http://127.0.0.1:${PORTS.trivial}`, gateway: `http://127.0.0.1:${PORTS.gateway}`, worker: `http://127.0.0.1:${PORTS.worker}` };

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
 * The trivial handler and the gateway, measured in alternating rounds: this machine's speed swings
 * within minutes (other tenants; the trivial handler alone has measured 1,600 to 5,900 req/s in one
 * day), so each round's ratio compares two neighbouring 10 s windows, and the round with the
 * median ratio is the headline.
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

const NOTHING: LoadResult = { requestsPerSecond: NaN, p50Ms: NaN, p99Ms: NaN, total: 0, non2xx: 0, errors: 0 };

/** The trivial handler and the gateway: first passes, warm-up, then the alternating rounds. */
async function gatewayPhase(env: BenchEnvironment, gateway: ChildProcess, children: ChildProcess[]): Promise<GatewayMeasure> {
  let firstPass: GatewayMeasure["firstPass"] = { trivial: NOTHING, full: NOTHING };
  let rounds: Round[] = [];
  let median: Round = { trivial: NOTHING, full: NOTHING, ratio: NaN, cpu: { trivial: undefined, full: undefined }, gatewayLoop: NaN };
  if (!ONLY_EMAIL) {
    const server = await forkReady("trivial-server", [String(PORTS.trivial)]);
    children.push(server);
    process.stdout.write("bench: first pass and warm-up of the trivial Express handler and the gateway...\n");
    firstPass = { trivial: await warmUp(URLS.trivial, env.userIds), full: await warmUp(URLS.gateway, env.userIds) };
    process.stdout.write(`bench: ${ROUNDS} rounds of ${DURATION_S} s each, trivial handler then POST /notifications/send...\n`);
    ({ rounds, median } = await gatewayRounds(
      { trivial: { name: "trivial handler", url: URLS.trivial, pid: server.pid }, gateway: { name: "gateway", url: URLS.gateway, pid: gateway.pid } },
      env.userIds,
    ));
    await stop(server);
  }
  return { rounds, median, firstPass, acceptedRows: await env.db.prisma.notificationRequest.count(), writes: await writerFigures(URLS.gateway) };
}

/** Pooled nodemailer into the sink, then the burst through send-bulk and the email worker. */
async function emailPhase(env: BenchEnvironment, gateway: ChildProcess, children: ChildProcess[]): Promise<EmailMeasure> {
  process.stdout.write("bench: SMTP sink, pooled nodemailer straight into it (the ceiling)...\n");
  const sink = await forkReady("smtp-sink", [String(PORTS.sink)]);
  children.push(sink);
  const { result: raw, cpu: rawCpu } = await measureCpu({ "nodemailer (the bench process)": process.pid, "SMTP sink": sink.pid }, () =>
    rawSmtp(sink, PORTS.sink, MAILS, SMTP_CONNECTIONS),
  );

  process.stdout.write("bench: a burst of 10,000 through send-bulk, the broker and the email worker into the sink...\n");
  // The single-send load above left its messages in email.queue: start from an empty queue.
  await purgeQueue(env.vars.RABBITMQ_URL!, "email.queue");
  const worker = startApp(
    "email-worker",
    { ...env.vars, EMAIL_WORKER_PORT: String(PORTS.worker), SMTP_HOST: "127.0.0.1", SMTP_PORT: String(PORTS.sink), SMTP_MAX_CONNECTIONS: String(SMTP_CONNECTIONS) },
    PROFILE,
  );
  children.push(worker);
  await waitReady(PORTS.worker);
  const {
    result: { result: e2e, cpu: e2eCpu },
    loop: workerLoop,
  } = await withLoopUtilization(URLS.worker, () =>
    measureCpu({ "email worker": worker.pid, gateway: gateway.pid, "SMTP sink": sink.pid, "send-bulk client (the bench process)": process.pid }, () =>
      endToEnd(sink, URLS.gateway, API_KEY, env.userIds, MAILS),
    ),
  );
  // The last "sent" records are written a few milliseconds after the mail reached the sink.
  let sent = 0;
  for (let i = 0; i < 100 && sent < MAILS; i += 1) {
    sent = await env.db.prisma.delivery.count({ where: { status: "sent" } });
    if (sent < MAILS) await new Promise((r) => setTimeout(r, 100));
  }
  return { raw, rawCpu, e2e, e2eCpu, workerLoop, sent };
}

/** bench/results/<time>.md and .json, and latest.md. */
function writeResults(results: Results, md: string): string {
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const stamp = results.at.toISOString().replace(/[:.]/g, "-").slice(0, 19);
  fs.writeFileSync(path.join(dir, `${stamp}.md`), md);
  fs.writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(toJson(results), null, 2)}\n`);
  fs.writeFileSync(path.join(dir, "latest.md"), md);
  return `bench/results/${stamp}.md`;
}

const SETTINGS: Settings = {
  durationS: DURATION_S,
  warmupS: WARMUP_S,
  rounds: ROUNDS,
  connections: 50,
  users: USERS,
  mails: MAILS,
  smtpConnections: SMTP_CONNECTIONS,
};

async function main(): Promise<void> {
  const machine = machineNotes();
  process.stdout.write("bench: preparing its own database, vhost and users...\n");
  const env = await prepare(USERS);
  const children: ChildProcess[] = [];
  try {
    const gateway = startApp("api-gateway", { ...env.vars, GATEWAY_PORT: String(PORTS.gateway) }, [...PROFILE, ...GATEWAY_FLAGS]);
    children.push(gateway);
    await waitReady(PORTS.gateway);
    const gatewayMeasure = await gatewayPhase(env, gateway, children);
    if (ONLY_GATEWAY) {
      process.stdout.write(gatewaySummary(gatewayMeasure));
      return;
    }
    const email = await emailPhase(env, gateway, children);
    const results: Results = { at: new Date(), machine, settings: SETTINGS, gateway: gatewayMeasure, email };
    const md = toMarkdown(results);
    if (ONLY_EMAIL) {
      // A partial run: shown, not kept beside the full runs' results.
      process.stdout.write(`\n${md}\nbench: --only=email, nothing written to bench/results\n`);
      return;
    }
    process.stdout.write(`\n${md}\nbench: written to ${writeResults(results, md)}\n`);
  } finally {
    for (const child of children.reverse()) await stop(child);
    await env.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
