// What a run measured and how it is written down: bench/results/latest.json (the headline as plain
// numbers, then each phase's details) and latest.md (machine notes, the headline, each phase's
// lines and a table of where its CPU went), with a dated copy of each.
import fs from "node:fs";
import path from "node:path";
import { machineLoad, type CpuUsage } from "./cpu";
import type { Options, PhaseName } from "./options";
import { ROOT } from "./processes";
import { flaggable, RSS_FLAG_MB } from "./rss";

/** The headline: CPU ratios first, rates beside them. null: that phase did not run. */
export interface Headline {
  /** CPU per accepted send of the gateway, PostgreSQL, RabbitMQ and Redis / the trivial handler's CPU per request. */
  gateway_cpu_ratio: number | null;
  /** Accepted sends/s / the trivial handler's requests/s (median round). */
  gateway_rate_ratio: number | null;
  gateway_p99_ms: number | null;
  /** CPU per mail of every process of the path / pooled nodemailer's and the sink's CPU per mail. */
  e2e_cpu_ratio: number | null;
  e2e_rate_ratio: number | null;
  steady_accept_p99_ms: number | null;
  steady_e2e_p99_ms: number | null;
  /** The gateway's accepted sends/s with a million notifications in the database, as a change (-0.04: 4% slower). */
  million_rows_rate_change: number | null;
  /** The largest resident set of a Herald process (gateway, email workers) over the run. */
  max_rss_mb: number | null;
}

export const EMPTY_HEADLINE: Headline = {
  gateway_cpu_ratio: null,
  gateway_rate_ratio: null,
  gateway_p99_ms: null,
  e2e_cpu_ratio: null,
  e2e_rate_ratio: null,
  steady_accept_p99_ms: null,
  steady_e2e_p99_ms: null,
  million_rows_rate_change: null,
  max_rss_mb: null,
};

/** A window of a phase whose CPU is shown per unit of work (request, send, mail). */
export interface CpuTable {
  label: string;
  units: number;
  unit: string;
  cpu: CpuUsage | undefined;
}

export interface PhaseResult {
  headline: Partial<Headline>;
  /** Everything else the phase measured (JSON). */
  details: Record<string, unknown>;
  /** What the phase found, in sentences (console and markdown). */
  lines: string[];
  cpu: CpuTable[];
  /** Filled by the run: the largest RSS per process during the phase, in MB. */
  rssMb?: Record<string, number>;
  seconds?: number;
}

export interface Results {
  at: Date;
  options: Options;
  machine: Record<string, string>;
  headline: Headline;
  phases: Partial<Record<PhaseName, PhaseResult>>;
  seconds: number;
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "–";

/** A plain number for the JSON (NaN and infinities are not JSON: null). */
export const num = (n: number | undefined, digits = 3): number | null => (n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(digits)));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function cpuTable(table: CpuTable): string[] {
  if (!table.cpu) return [`${table.label}: CPU not measured (no /proc).`];
  const rows = Object.entries(table.cpu.components)
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((a, [, s]) => a + s, 0);
  return [
    `${table.label} (${fmt(table.units)} ${table.unit}s, ${fmt(table.cpu.seconds, 1)} s; machine ${machineLoad(table.cpu)}):`,
    "",
    `| process | CPU s | cores | ms per ${table.unit} |`,
    "|---|---:|---:|---:|",
    ...rows.map(([name, s]) => `| ${name} | ${fmt(s, 2)} | ${fmt(s / table.cpu!.seconds, 2)} | ${fmt((1000 * s) / table.units, 3)} |`),
    `| **all** | ${fmt(total, 2)} | ${fmt(total / table.cpu.seconds, 2)} | ${fmt((1000 * total) / table.units, 3)} |`,
    "",
  ];
}

function rssLines(rss: Record<string, number> | undefined): string[] {
  if (!rss || Object.keys(rss).length === 0) return [];
  const flagged = (name: string, mb: number) => mb > RSS_FLAG_MB && flaggable(name);
  return [
    `Largest RSS per process (MB, sampled every second): ${Object.entries(rss)
      .sort((a, b) => b[1] - a[1])
      .map(([name, mb]) => `${name} ${fmt(mb)}${flagged(name, mb) ? ` **(> ${RSS_FLAG_MB} MB)**` : ""}`)
      .join(", ")}.`,
    "",
  ];
}

export function toMarkdown(results: Results): string {
  const { at, options, machine, headline, phases } = results;
  const kind = options.quick ? "**--quick run: small sizes, figures only indicative (not the headline)**" : "full sizes";
  return [
    `# Benchmark ${at.toISOString()}`,
    "",
    `${kind}; phases: ${Object.keys(phases).join(", ")}; ${fmt(results.seconds / 60, 1)} minutes in all.`,
    "",
    `Machine: ${machine.cpu}, ${machine.memory}, ${machine.os}; Node ${machine.node}; ${machine.postgresql}; ${machine.redis}; RabbitMQ ${machine.rabbitmq}.`,
    `Over the run: ${machine.load}. Before it, idle for ${machine.idle_window}: ${machine.background}.`,
    "Everything (load generator, processes, PostgreSQL, Redis, RabbitMQ, SMTP sink) on this one machine, loopback only. LOG_LEVEL=warn.",
    `Node flags of the platform's processes: ${options.nodeFlags.length > 0 ? options.nodeFlags.map((f) => `\`${f}\``).join(" ") : "none (Node's defaults)"}.`,
    "PostgreSQL's CPU is its backends of the bench's own database and its shared processes (checkpointer, WAL writer...); RabbitMQ's and Redis's are",
    "the whole server (other users of them count too: see the idle figures above).",
    "",
    "## Headline",
    "",
    "| | value |",
    "|---|---:|",
    ...Object.entries(headline).map(([k, v]) => `| ${k} | ${v === null ? "not run" : String(v)} |`),
    "",
    `Sizes: ${Object.entries(options.sizes)
      .map(([k, v]) => `${k} ${Array.isArray(v) ? v.join("/") : String(v)}`)
      .join(", ")}.`,
    "",
    ...Object.entries(phases).flatMap(([name, phase]) => [
      `## ${name} (${fmt(phase.seconds ?? NaN)} s)`,
      "",
      ...phase.lines.flatMap((l) => [l, ""]),
      ...phase.cpu.flatMap(cpuTable),
      ...rssLines(phase.rssMb),
    ]),
  ].join("\n");
}

export function toJson(results: Results): unknown {
  return {
    at: results.at.toISOString(),
    quick: results.options.quick,
    phases_run: Object.keys(results.phases),
    headline: results.headline,
    machine: results.machine,
    sizes: results.options.sizes,
    node_flags: results.options.nodeFlags,
    seconds: num(results.seconds, 1),
    phases: Object.fromEntries(
      Object.entries(results.phases).map(([name, phase]) => [
        name,
        {
          ...phase.details,
          seconds: num(phase.seconds, 1),
          cpu: phase.cpu.map((t) => ({ label: t.label, units: t.units, unit: t.unit, ...t.cpu })),
          max_rss_mb: phase.rssMb,
        },
      ]),
    ),
  };
}

/**
 * bench/results/: a full run (every phase, full sizes) writes latest.json/latest.md, a --quick run
 * quick-latest.*, a run of some phases partial-latest.* (neither replaces the full run's
 * headline); each also keeps a dated copy.
 */
export function writeResults(results: Results): string {
  const dir = path.join(ROOT, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const partial = Object.keys(results.phases).length < 7;
  const kind = results.options.quick ? "quick-" : partial ? "partial-" : "";
  const stamp = results.at.toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const md = toMarkdown(results);
  const json = `${JSON.stringify(toJson(results), null, 2)}\n`;
  for (const name of [`${kind}latest`, `${stamp}${kind ? `-${kind.slice(0, -1)}` : ""}`]) {
    fs.writeFileSync(path.join(dir, `${name}.md`), md);
    fs.writeFileSync(path.join(dir, `${name}.json`), json);
  }
  return `bench/results/${kind}latest.{json,md}`;
}
