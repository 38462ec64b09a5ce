import fs from "node:fs";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The process group: every process of one system under drill shares the launcher's. */
  pgrp: number;
  cmdline: string;
}

/** Parses /proc/<pid>/stat ("pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses). */
export function parseStat(stat: string): { pid: number; state: string; ppid: number; pgrp: number } | undefined {
  const close = stat.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = Number(stat.slice(0, stat.indexOf(" ")));
  const fields = stat.slice(close + 2).split(" ");
  const state = fields[0] ?? "?";
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  return Number.isInteger(pid) && Number.isInteger(ppid) && Number.isInteger(pgrp) ? { pid, state, ppid, pgrp } : undefined;
}

/** Every live process of a process group (Linux /proc). */
export function processGroup(pgrp: number): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseStat(fs.readFileSync(`/proc/${entry}/stat`, "utf8"));
      // A zombie is dead already (its parent has not reaped it yet).
      if (!stat || stat.pgrp !== pgrp || stat.state === "Z") continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      found.push({ pid: stat.pid, ppid: stat.ppid, pgrp: stat.pgrp, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
