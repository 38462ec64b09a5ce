// Memory: the resident set (VmRSS of /proc/<pid>/status) of every process of the run, sampled
// every second for the whole run; each phase reads the maximum per process over its own window.
import fs from "node:fs";
import { allProcesses, serviceProcesses, tree } from "./cpu";

/** Above this a Herald process is flagged (issue 12). */
export const RSS_FLAG_MB = 150;

function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private readonly named = new Map<string, number>();
  /** Samples: time, then MB per process name. */
  private readonly samples: { at: number; mb: Record<string, number> }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly database: string) {}

  /** A process of the run, sampled from now on (with its descendants, each on its own). */
  watch(name: string, pid: number | undefined): void {
    if (pid !== undefined) this.named.set(name, pid);
  }

  start(): void {
    if (!fs.existsSync("/proc/self/status")) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const procs = allProcesses();
    const mb: Record<string, number> = {};
    for (const [name, pid] of this.named) {
      tree(procs, pid).forEach((p, i) => {
        if (name === "bench (load generator)" && i > 0) return;
        const value = rssMb(p.pid);
        if (value !== undefined) mb[i === 0 ? name : `${name} (child ${p.pid})`] = value;
      });
    }
    // Services: the largest single process of each (PostgreSQL: of the bench's backends and its own processes).
    for (const [service, list] of Object.entries(serviceProcesses(procs, this.database))) {
      const values = list.map((p) => rssMb(p.pid) ?? 0);
      if (values.length > 0) mb[`${service} (largest process)`] = Math.max(...values);
    }
    this.samples.push({ at: Date.now(), mb });
  }

  /** The maximum RSS per process between two times (ms since the epoch). */
  maxBetween(from: number, to = Date.now()): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) {
      if (s.at < from - 1000 || s.at > to + 1000) continue;
      for (const [name, value] of Object.entries(s.mb)) out[name] = Math.max(out[name] ?? 0, value);
    }
    return out;
  }
}

/** Flagged over RSS_FLAG_MB: the platform's processes and the sink (not the bench itself, not the services). */
export const flaggable = (name: string) => !/^(bench|postgresql|rabbitmq|redis)/.test(name);

/** The Herald processes (not the bench's own, not the services) of a maxBetween answer. */
export function heraldMax(max: Record<string, number>): number {
  const values = Object.entries(max)
    .filter(([name]) => /^(gateway|email worker)/.test(name))
    .map(([, v]) => v);
  return values.length > 0 ? Math.max(...values) : NaN;
}
