// Where a phase's CPU went: each of the benchmark's processes and each local service, read from
// /proc before and after the phase. The ratios say how fast the platform is beside its ceiling;
// these figures say what each part cost and how much of the machine was left.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** Local services, by the process names they run as (every process of that name counts). */
const SERVICES: Record<string, string[]> = {
  postgresql: ["postgres"],
  rabbitmq: ["beam.smp", "erl_child_setup", "inet_gethost"],
  redis: ["redis-server"],
};

export interface CpuUsage {
  /** Wall seconds of the phase. */
  seconds: number;
  /** CPU seconds per component (the benchmark's own processes by name, then the services). */
  components: Record<string, number>;
  /** The whole machine over the phase, in cores: busy (steal excluded), idle, stolen by the host. */
  machine: { cores: number; busy: number; idle: number; steal: number };
}

interface Snapshot {
  at: number;
  components: Record<string, number>;
  machine: number[];
}

const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * utime + stime of one process, in seconds; undefined once it is gone. With `reaped`, also the
 * time of its children that have exited: PostgreSQL's postmaster reaps the backends a pool closes
 * during a phase, and their time would otherwise vanish from the sum.
 */
function processSeconds(pid: number, reaped = false): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    const own = fields[11]! + fields[12]!;
    return (reaped ? own + fields[13]! + fields[14]! : own) / TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of each service: all its processes, with their reaped children. A process that
 * exits during a phase takes its time with it, unless its parent is one of them (the postmaster).
 */
function servicesSeconds(): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(Object.keys(SERVICES).map((s) => [s, 0]));
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const service = Object.keys(SERVICES).find((s) => SERVICES[s]!.includes(name));
    if (service) totals[service]! += processSeconds(Number(entry), true) ?? 0;
  }
  return totals;
}

/**
 * Runs a phase and measures its CPU: `processes` names the benchmark's own processes by pid (this
 * process too, as the load generator or the raw nodemailer sender), and the local services are
 * found by name. On a system without /proc it runs the phase and measures nothing.
 */
export async function measureCpu<T>(processes: Record<string, number | undefined>, phase: () => Promise<T>): Promise<{ result: T; cpu: CpuUsage | undefined }> {
  if (!fs.existsSync("/proc/stat")) return { result: await phase(), cpu: undefined };
  const before = snapshot(processes);
  const result = await phase();
  const after = snapshot(processes);
  const seconds = (after.at - before.at) / 1000;
  const components: Record<string, number> = {};
  for (const [name, value] of Object.entries(after.components)) {
    const start = before.components[name];
    if (start !== undefined) components[name] = value - start;
  }
  // /proc/stat's first line: user nice system idle iowait irq softirq steal (in ticks)
  const delta = after.machine.map((v, i) => (v - (before.machine[i] ?? 0)) / TICKS);
  const idle = (delta[3] ?? 0) + (delta[4] ?? 0);
  const steal = delta[7] ?? 0;
  const total = delta.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    result,
    cpu: { seconds, components, machine: { cores: total / seconds, busy: (total - idle - steal) / seconds, idle: idle / seconds, steal: steal / seconds } },
  };
}

function snapshot(processes: Record<string, number | undefined>): Snapshot {
  const components: Record<string, number> = {};
  for (const [name, pid] of Object.entries(processes)) {
    const seconds = pid === undefined ? undefined : processSeconds(pid);
    if (seconds !== undefined) components[name] = seconds;
  }
  Object.assign(components, servicesSeconds());
  const machine = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { at: Date.now(), components, machine };
}

/** "gateway 0.71, load generator 0.12, ..." in ms of CPU per unit of work (request, mail). */
export function perUnit(cpu: CpuUsage | undefined, units: number): string {
  if (!cpu || units <= 0) return "not measured (no /proc)";
  return Object.entries(cpu.components)
    .filter(([, seconds]) => seconds > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, seconds]) => `${name} ${((1000 * seconds) / units).toFixed(2)}`)
    .join(", ");
}

/** "busy 1.42, idle 0.51, stolen 0.07 of 2 cores" */
export function machineLoad(cpu: CpuUsage | undefined): string {
  if (!cpu) return "not measured";
  const { busy, idle, steal, cores } = cpu.machine;
  return `busy ${busy.toFixed(2)}, idle ${idle.toFixed(2)}, stolen by the host ${steal.toFixed(2)} of ${Math.round(cores)} cores`;
}
