import type { Broker } from "./broker";
import type { Tally } from "./counting";
import type { Evidence } from "./evidence";
import type { DrillChannel, Load } from "./load";
import type { Receivers } from "./receivers";
import type { FaultForm, ServiceFault, ServiceName } from "./service-faults";
import type { System } from "./system";
import type { World } from "./world";

export interface RunSettings {
  /** The short form: shorter outages (still longer than the breaker's recovery time). */
  short: boolean;
  /** How service faults are made: the real service (a), or a TCP proxy in front of it (b). */
  services: FaultForm;
}

/** A check of its own a drill makes besides the counts (e.g. "no refused connections"). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A process a drill killed, and what it left claimed in PostgreSQL (attempts on the wire). */
export interface Kill {
  app: string;
  pid: number;
  at: number;
  /** Deliveries claimed by it (status processing) right after it died: its attempts on the wire. */
  onTheWire: number;
}

export interface DrillContext {
  settings: RunSettings;
  signal: AbortSignal;
  world: World;
  system: System;
  receivers: Receivers;
  broker: Broker;
  load: Load;
  /** The service fault, when the drill has one (its form decides how the system connects). */
  fault: ServiceFault | undefined;
  /** The system's environment (what the policy is computed from). */
  env: Record<string, string>;
  /** When the fault ended (restored, or the instant of a kill): recovery times count from here. */
  faultEnd: number;
  kills: Kill[];
  /** Checks the drill made while it ran (besides those of checks()). */
  checks: Check[];
  /** Facts worth keeping beside the counts (durations used, ids, ...). */
  notes: string[];
  sleep(ms: number): Promise<void>;
  waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T>;
}

export interface Drill {
  name: string;
  /** One sentence: what the drill does. */
  summary: string;
  /** Part of `--short` (which must stay under 5 minutes in .ci/run). */
  short: boolean;
  /** The service the drill takes away, if any. */
  service?: ServiceName;
  /** The SMTP provider's time per mail. */
  smtpDelayMs?: number;
  /** Notifications the drill sends at most (sizes the audience so no user hits the rate limit). */
  sends: number;
  channels: DrillChannel[];
  /** Environment of the system beyond the drill defaults (said in the results). */
  env?(settings: RunSettings): Record<string, string>;
  /** The whole drill's wall-clock budget, fault and recovery included; then whatever is not final is stuck. */
  deadlineS(settings: RunSettings): number;
  /** Sends, injects the fault, sets ctx.faultEnd; returns once the fault is over. */
  run(ctx: DrillContext): Promise<void>;
  /** Deliveries each channel may receive twice: for `resend` channels what a dead worker had on the wire; else 0. */
  allowance?(ctx: DrillContext): Partial<Record<DrillChannel, number>>;
  checks?(ctx: DrillContext, tally: Tally): Promise<Check[]>;
}

export interface DrillResult {
  name: string;
  summary: string;
  /** proxy, real, or "-" for drills that touch no service. */
  form: string;
  env: Record<string, string>;
  startedAt: string;
  durationS: number;
  verdict: "pass" | "FAIL" | "error";
  failures: string[];
  tally: Tally | undefined;
  checks: Check[];
  kills: Kill[];
  notes: string[];
  error?: string;
  evidence: Evidence | undefined;
  logFile: string;
}
