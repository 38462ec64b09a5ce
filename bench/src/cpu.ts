// Where a phase's CPU went: each of the benchmark's processes and each local service, read from
// /proc before and after the phase. The ratios say how fast the platform is beside its ceiling;
// these figures say what each part cost and how much of the machine was left.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

export interface CpuUsage {
  /** Wall seconds of the phase. */
  seconds: number;
  /** CPU seconds per component (the benchmark's own processes by name, then the services). */
  components: Record<string, number>;
  /** The whole machine over the phase, in cores: busy (steal excluded), idle, stolen by the host. */
  machine: { cores: number; busy: number; idle: number; steal: number };
}

/** One process as /proc shows it. */
interface Proc {
  pid: number;
  ppid: number;
  name: string;
  /** utime + stime, in seconds. */
  own: number;
  /** own + the time of its children that have exited (cutime + cstime). */
  withReaped: number;
  /** The command line, read only for PostgreSQL (its process title names the database). */
  title: string;
}

const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

const RABBITMQ = ["beam.smp", "erl_child_setup", "inet_gethost"];
/** PostgreSQL's own processes, shared by every database (the postmaster is counted without its reaped backends). */
const PG_AUXILIARY = /: (checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|archiver|stats collector)\s*$/;

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    const own = (fields[11]! + fields[12]!) / TICKS;
    const title = name === "postgres" ? fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim() : "";
    return { pid, ppid: fields[1]!, name, own, withReaped: own + (fields[13]! + fields[14]!) / TICKS, title };
  } catch {
    return undefined;
  }
}

/** Every process on the machine. */
export function allProcesses(): Proc[] {
  const out: Proc[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const proc = readProc(Number(entry));
    if (proc) out.push(proc);
  }
  return out;
}

/** A process and all its descendants (a clustered gateway is a primary with its copies). */
export function tree(procs: Proc[], root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const walk = (pid: number) => {
    const self = procs.find((p) => p.pid === pid);
    if (self) out.push(self);
    for (const child of children.get(pid) ?? []) walk(child.pid);
  };
  walk(root);
  return out;
}

/**
 * The services' processes that belong to this benchmark: PostgreSQL's backends of the bench's own
 * database (its process title names it) and its shared auxiliary processes; RabbitMQ and Redis
 * whole (they serve every vhost and key prefix: other users' load on them is counted too).
 */
export function serviceProcesses(procs: Proc[], database: string): Record<string, Proc[]> {
  const ownDatabase = new RegExp(`\\s${database}(\\s|$)`);
  return {
    postgresql: procs.filter((p) => p.name === "postgres" && (ownDatabase.test(p.title) || PG_AUXILIARY.test(p.title) || !p.title.startsWith("postgres:"))),
    rabbitmq: procs.filter((p) => RABBITMQ.includes(p.name)),
    redis: procs.filter((p) => p.name === "redis-server"),
  };
}

interface Snapshot {
  at: number;
  components: Record<string, number>;
  machine: number[];
}

/** The database whose PostgreSQL backends count as the benchmark's (set once by the run). */
let benchDatabase = "herald_bench";
export function setBenchDatabase(name: string): void {
  benchDatabase = name;
}

/**
 * Runs a phase and measures its CPU: `processes` names the benchmark's own processes by pid (each
 * with its descendants, except this process, the load generator, whose children are named on
 * their own), and the local services are found by name. Without /proc it measures nothing.
 */
export async function measureCpu<T>(processes: Record<string, number | undefined>, phase: () => Promise<T>): Promise<{ result: T; cpu: CpuUsage | undefined }> {
  if (!fs.existsSync("/proc/stat")) return { result: await phase(), cpu: undefined };
  const before = snapshot(processes);
  const result = await phase();
  const after = snapshot(processes);
  const seconds = (after.at - before.at) / 1000;
  const components: Record<string, number> = {};
  for (const [key, value] of Object.entries(after.components)) {
    const start = before.components[key];
    const [name, perPid] = key.split("#");
    // A PostgreSQL backend that appeared during the phase spent all its time in it.
    if (start !== undefined || perPid !== undefined) components[name!] = (components[name!] ?? 0) + Math.max(0, value - (start ?? 0));
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

/**
 * PostgreSQL's backends come and go, so each is kept by pid ("postgresql#<pid>", folded into
 * "postgresql" by measureCpu): one seen before and after counts its difference, one that appeared
 * counts all its time; one that exited during the phase takes its time with it (the bench's
 * processes keep their pools open, so few do).
 */
function snapshot(processes: Record<string, number | undefined>): Snapshot {
  const procs = allProcesses();
  const components: Record<string, number> = {};
  for (const [name, pid] of Object.entries(processes)) {
    if (pid === undefined || !procs.some((p) => p.pid === pid)) continue;
    components[name] = pid === process.pid ? (procs.find((p) => p.pid === pid)?.own ?? 0) : tree(procs, pid).reduce((a, p) => a + p.withReaped, 0);
  }
  for (const [service, list] of Object.entries(serviceProcesses(procs, benchDatabase))) {
    if (service === "postgresql") for (const p of list) components[`postgresql#${p.pid}`] = p.own;
    else components[service] = list.reduce((a, p) => a + p.withReaped, 0);
  }
  const machine = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { at: Date.now(), components, machine };
}

/** CPU seconds of the components `pick` chooses. */
export function cpuOf(cpu: CpuUsage | undefined, pick: (name: string) => boolean): number {
  if (!cpu) return NaN;
  return Object.entries(cpu.components)
    .filter(([name]) => pick(name))
    .reduce((a, [, s]) => a + s, 0);
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
