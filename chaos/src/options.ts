import type { FaultForm } from "./service-faults";

export interface Options {
  /** `--short`: the drills marked short, with short outages (for .ci/run, under 5 minutes). */
  short: boolean;
  /** `--only=a,b`: just these drills (in the form --short says). */
  only: string[] | undefined;
  /**
   * `--services=real`: service drills stop and start the real local PostgreSQL, Redis and RabbitMQ
   * (form a). The default, `proxy`, cuts a TCP proxy in front of them (form b), which leaves the
   * shared services alone; the short form always uses the proxy.
   */
  services: FaultForm;
}

export const USAGE = "npm run chaos -- [--short] [--only=<drill>[,<drill>...]] [--services=proxy|real]";

export function parseOptions(argv: string[], drills: readonly string[]): Options {
  const options: Options = { short: false, only: undefined, services: "proxy" };
  for (const arg of argv) {
    if (arg === "--short") options.short = true;
    else if (arg.startsWith("--only=")) options.only = arg.slice("--only=".length).split(",").map((d) => d.trim()).filter(Boolean);
    else if (arg === "--services=real" || arg === "--services=proxy") options.services = arg.slice("--services=".length) as FaultForm;
    else throw new Error(`unknown argument ${arg}; usage: ${USAGE}`);
  }
  const unknown = (options.only ?? []).filter((d) => !drills.includes(d));
  if (unknown.length > 0) throw new Error(`unknown drill ${unknown.join(", ")}; drills: ${drills.join(", ")}`);
  if (options.only?.length === 0) throw new Error(`--only needs a drill name; drills: ${drills.join(", ")}`);
  if (options.short && options.services === "real") throw new Error("the short form cuts services with a TCP proxy only (it runs in CI, beside other tests)");
  return options;
}
