// What a bench run measured, and how it is written down: the results file (markdown and JSON) and
// the short summary of a `--only=gateway` run.
import { machineLoad, perUnit, type CpuUsage } from "./cpu";
import type { EmailResult } from "./email-bench";
import type { LoadResult } from "./gateway-bench";

export interface Settings {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  users: number;
  mails: number;
  smtpConnections: number;
}

/** One round: the trivial handler's 10 s, then the gateway's. */
export interface Round {
  trivial: LoadResult;
  full: LoadResult;
  ratio: number;
  /** Where each side's CPU went during its 10 s. */
  cpu: { trivial: CpuUsage | undefined; full: CpuUsage | undefined };
  /** The share of the gateway's 10 s its event loop was busy. */
  gatewayLoop: number;
}

export interface GatewayMeasure {
  rounds: Round[];
  median: Round;
  /** Each server's first pass over every user (profiles not yet cached). */
  firstPass: { trivial: LoadResult; full: LoadResult };
  acceptedRows: number;
  writes: { sendsPerWrite: number; meanWriteMs: number };
}

export interface EmailMeasure {
  raw: EmailResult;
  rawCpu: CpuUsage | undefined;
  e2e: EmailResult & { acceptSeconds: number };
  e2eCpu: CpuUsage | undefined;
  /** The share of the burst the email worker's event loop was busy. */
  workerLoop: number;
  /** Deliveries recorded `sent` in PostgreSQL after the burst. */
  sent: number;
}

export interface Results {
  at: Date;
  machine: Record<string, string>;
  settings: Settings;
  gateway: GatewayMeasure;
  email: EmailMeasure;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The console lines of a `--only=gateway` run. */
export function gatewaySummary(gateway: GatewayMeasure): string {
  const { rounds, median, firstPass, writes, acceptedRows } = gateway;
  return [
    ...rounds.map(
      (r) =>
        `trivial ${fmt(r.trivial.requestsPerSecond)}/s p99 ${r.trivial.p99Ms} ms; gateway ${fmt(r.full.requestsPerSecond)}/s p50 ${r.full.p50Ms} p99 ${r.full.p99Ms} ms, ` +
        `event loop busy ${fmt(100 * r.gatewayLoop)}%; ratio ${fmt(r.ratio, 2)}x`,
    ),
    `median round, CPU ms per request: trivial side ${perUnit(median.cpu.trivial, median.trivial.total)}; gateway side ${perUnit(median.cpu.full, median.full.total)}; ` +
      `machine during the gateway: ${machineLoad(median.cpu.full)}`,
    `median ratio ${fmt(median.ratio, 2)}x; first pass ${fmt(firstPass.full.requestsPerSecond)}/s; ` +
      `${fmt(writes.sendsPerWrite, 1)} sends per write of ${fmt(writes.meanWriteMs, 1)} ms; rows ${acceptedRows}`,
    "",
  ].join("\n");
}

/** The JSON results file (snake_case keys, as the earlier results files have them). */
export function toJson({ at, machine, settings, gateway, email }: Results): unknown {
  const bulkRate = settings.mails / email.e2e.acceptSeconds;
  const single = gateway.median.full.requestsPerSecond;
  return {
    at: at.toISOString(),
    machine,
    settings: {
      duration_s: settings.durationS,
      warmup_s: settings.warmupS,
      rounds: settings.rounds,
      connections: settings.connections,
      users: settings.users,
      mails: settings.mails,
      smtp_connections: settings.smtpConnections,
      log_level: "warn",
    },
    gateway: { rounds: gateway.rounds, median: gateway.median, first_pass: gateway.firstPass, accepted_rows: gateway.acceptedRows, writes: gateway.writes },
    bulk: { accepted_per_second: bulkRate, single_per_second: single, ratio: bulkRate / single },
    email: {
      raw_smtp: email.raw,
      end_to_end: email.e2e,
      ratio: email.e2e.perSecond / email.raw.perSecond,
      deliveries_sent: email.sent,
      cpu: { raw_smtp: email.rawCpu, end_to_end: email.e2eCpu },
      worker_event_loop_busy: email.workerLoop,
    },
  };
}

/** The markdown results file. */
export function toMarkdown({ at, machine, settings, gateway, email }: Results): string {
  const { rounds, median, firstPass, writes, acceptedRows } = gateway;
  const { raw, rawCpu, e2e, e2eCpu } = email;
  const bulkRate = settings.mails / e2e.acceptSeconds;
  const single = median.full.requestsPerSecond;
  return [
    `# Benchmark ${at.toISOString()}`,
    "",
    `Machine: ${machine.cpu}, ${machine.memory}, ${machine.os}; Node ${machine.node}; ${machine.postgresql}; ${machine.redis}; RabbitMQ ${machine.rabbitmq}.`,
    `Everything (load generator, processes, PostgreSQL, Redis, RabbitMQ, SMTP sink) on this one machine. LOG_LEVEL=warn.`,
    "",
    `## Gateway: POST /notifications/send, autocannon, ${settings.connections} connections`,
    "",
    `A first pass over the ${fmt(settings.users)} users and ${settings.warmupS} s of warm-up on each server, then ${settings.rounds} rounds of ${settings.durationS} s: ` +
      "the trivial handler, then the gateway. Each round's ratio compares two neighbouring windows; the median round is the headline.",
    "",
    "| round | trivial Express handler answering 202 (ceiling) req/s, p50/p99 ms | full gateway path req/s, p50/p99 ms | gateway event loop busy | non-2xx / errors | ratio |",
    "|---|---:|---:|---:|---:|---:|",
    ...rounds.map(
      (r, i) =>
        `| ${i + 1}${r === median ? " (median)" : ""} | ${fmt(r.trivial.requestsPerSecond)}, ${r.trivial.p50Ms}/${r.trivial.p99Ms} | ` +
        `${fmt(r.full.requestsPerSecond)}, ${r.full.p50Ms}/${r.full.p99Ms} | ${fmt(100 * r.gatewayLoop)}% | ${r.full.non2xx} / ${r.full.errors} | ${fmt(r.ratio, 2)}x |`,
    ),
    "",
    `Full path / ceiling (median round): **${fmt(median.ratio, 2)}x** (target >= 0.5x, p99 <= 50 ms). Rows written: ${acceptedRows}; ` +
      `${fmt(writes.sendsPerWrite, 1)} sends per write statement, ${fmt(writes.meanWriteMs, 1)} ms per write.`,
    "",
    ...gatewayCpuLines(median),
    "",
    `First pass (each of the ${fmt(settings.users)} users once, profiles not yet cached): full path ${fmt(firstPass.full.requestsPerSecond)}/s, ` +
      `p99 ${firstPass.full.p99Ms} ms; trivial handler ${fmt(firstPass.trivial.requestsPerSecond)}/s.`,
    "",
    "## send-bulk vs single sends",
    "",
    `send-bulk accepted ${fmt(settings.mails)} notifications in ${fmt(e2e.acceptSeconds, 2)} s = **${fmt(bulkRate)}/s**, ` +
      `${fmt(bulkRate / single, 1)}x the single-send rate above (while the email worker was draining them).`,
    "",
    `## Email end to end: a burst of ${fmt(settings.mails)}, ${settings.smtpConnections} SMTP connections`,
    "",
    "| | mails/s | seconds | duplicates |",
    "|---|---:|---:|---:|",
    `| pooled nodemailer straight into the sink (ceiling) | ${fmt(raw.perSecond)} | ${fmt(raw.seconds, 2)} | ${raw.duplicates} |`,
    `| send-bulk -> PostgreSQL -> RabbitMQ -> email worker -> sink | ${fmt(e2e.perSecond)} | ${fmt(e2e.seconds, 2)} | ${e2e.duplicates} |`,
    "",
    `End to end / ceiling: **${fmt(e2e.perSecond / raw.perSecond, 2)}x** (target >= 0.8x). Deliveries recorded sent: ${email.sent}.`,
    "",
    "Where the CPU went, in ms per mail (whole phase; for end to end, from the first send-bulk request to the last mail):",
    "",
    `- pooled nodemailer: ${perUnit(rawCpu, raw.mails)}; machine ${machineLoad(rawCpu)}.`,
    `- end to end: ${perUnit(e2eCpu, e2e.mails)}; machine ${machineLoad(e2eCpu)}. The email worker's event loop was busy ${fmt(100 * email.workerLoop)}% of the time.`,
    ...atTarget(e2eCpu, e2e.mails, 0.8 * raw.perSecond, "0.8x of the raw rate"),
    "",
  ].join("\n");
}

/** The median round's CPU per request, and what the gateway would need at the target. */
function gatewayCpuLines(median: Round): string[] {
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
