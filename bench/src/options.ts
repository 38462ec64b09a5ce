// The command line: `npm run bench -- [--only=<phase>[,<phase>]] [--quick] [--profile] [--node-flags="<flags>"] [--<size>=<n>]`.
import path from "node:path";
import { ROOT } from "./processes";

export const PHASES = ["gateway", "email", "steady", "million", "burst", "workers", "retention"] as const;
export type PhaseName = (typeof PHASES)[number];

/** Every size of the run; each can be set on its own with --<kebab-case-name>=<value>. */
export interface Sizes {
  users: number;
  /** gateway: seconds per measured window, warm-up seconds, alternating rounds, connections. */
  gatewaySeconds: number;
  warmupSeconds: number;
  rounds: number;
  connections: number;
  /** GATEWAY_PROCESSES of the gateway (1: one process, like the trivial handler). */
  gatewayProcesses: number;
  /** email: the burst through the platform and through raw nodemailer. */
  e2eMails: number;
  smtpConnections: number;
  /** steady: sends per second, for how long. */
  steadyRate: number;
  steadySeconds: number;
  /** million: rows seeded, calls per list filter, and the before/after measurements' sizes. */
  millionRows: number;
  listCalls: number;
  millionGatewaySeconds: number;
  millionMails: number;
  /** burst: mails through send-bulk. */
  burstMails: number;
  /** workers: mails per worker count, and the counts. */
  workerMails: number;
  workerCounts: number[];
  /** retention: old rows seeded, seconds per side at steadyRate sends/s. */
  retentionRows: number;
  retentionSeconds: number;
}

const FULL: Sizes = {
  users: 2000,
  gatewaySeconds: 10,
  warmupSeconds: 3,
  rounds: 3,
  connections: 50,
  gatewayProcesses: 1,
  e2eMails: 10_000,
  smtpConnections: 5,
  steadyRate: 200,
  steadySeconds: 30,
  millionRows: 1_000_000,
  listCalls: 200,
  millionGatewaySeconds: 10,
  millionMails: 10_000,
  burstMails: 100_000,
  workerMails: 10_000,
  workerCounts: [1, 2, 4],
  retentionRows: 200_000,
  retentionSeconds: 20,
};

/** --quick: every phase in a few minutes in all (development, smoke checks); figures only indicative. */
const QUICK: Sizes = {
  ...FULL,
  users: 200,
  gatewaySeconds: 3,
  warmupSeconds: 1,
  rounds: 1,
  e2eMails: 1000,
  steadySeconds: 5,
  millionRows: 20_000,
  listCalls: 20,
  millionGatewaySeconds: 3,
  millionMails: 1000,
  burstMails: 3000,
  workerMails: 1000,
  retentionRows: 5000,
  retentionSeconds: 5,
};

export interface Options {
  phases: PhaseName[];
  quick: boolean;
  sizes: Sizes;
  /**
   * Node flags of the platform's processes: the CPU profiler's (--profile) and any given with
   * --node-flags="--max-old-space-size=64 ..." (to measure a configuration, e.g. a bounded heap).
   */
  nodeFlags: string[];
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseOptions(argv: string[]): Options {
  const quick = argv.includes("--quick");
  const sizes: Sizes = { ...(quick ? QUICK : FULL) };
  let phases: PhaseName[] = [...PHASES];
  const given: string[] = [];
  for (const arg of argv) {
    const [flag, value] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--quick" || flag === "--profile") continue;
    if (flag === "--node-flags") {
      given.push(...nodeFlagList(arg.slice("--node-flags=".length)));
      continue;
    }
    if (flag === "--only" && value) {
      const wanted = value.split(",").map((p) => p.trim());
      const unknown = wanted.filter((p) => !(PHASES as readonly string[]).includes(p));
      if (unknown.length > 0) throw new Error(`unknown phase ${unknown.join(", ")}; phases: ${PHASES.join(", ")}`);
      phases = PHASES.filter((p) => wanted.includes(p));
      continue;
    }
    const key = (Object.keys(FULL) as (keyof Sizes)[]).find((k) => `--${kebab(k)}` === flag);
    if (!key || value === undefined) throw new Error(`unknown option ${arg}; sizes: ${Object.keys(FULL).map((k) => `--${kebab(k)}=`).join(" ")}`);
    const numbers = value.split(",").map(Number);
    if (numbers.some((n) => !Number.isFinite(n) || n <= 0)) throw new Error(`${flag} wants positive numbers`);
    (sizes as unknown as Record<string, number | number[]>)[key] = Array.isArray(FULL[key]) ? numbers : numbers[0]!;
  }
  const profileFlags = argv.includes("--profile") ? ["--cpu-prof", `--cpu-prof-dir=${path.join(ROOT, "bench", "results", "profiles")}`] : [];
  return { phases, quick, sizes, nodeFlags: [...profileFlags, ...given] };
}

/** The flags of --node-flags: each must be a Node option (starts with --), so a typo cannot start a script. */
function nodeFlagList(value: string): string[] {
  const flags = value.split(/\s+/).filter((f) => f.length > 0);
  const wrong = flags.filter((f) => !/^--[a-z][a-z0-9-]*(=\S+)?$/.test(f));
  if (flags.length === 0 || wrong.length > 0) throw new Error(`--node-flags wants Node options like --max-old-space-size=64; not ${wrong.join(" ") || "(empty)"}`);
  return flags;
}
