import path from "node:path";
import { call } from "./api";
import { answerWindows, failures, FINAL, tally, type ApiStatus } from "./counting";
import type { Drill, DrillContext, DrillResult, RunSettings } from "./drill";
import { databaseFacts, logSummary, workerHealth, type Evidence } from "./evidence";
import { Load, type Send } from "./load";
import type { Stage } from "./stage";

/** Rejects once `signal` aborts (a drill's deadline, or Ctrl-C). */
export function abortable(signal: AbortSignal): Pick<DrillContext, "sleep" | "waitFor"> {
  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new Error(`aborted: ${String(signal.reason)}`));
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Error(`aborted: ${String(signal.reason)}`));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  const waitFor = async <T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
      await sleep(250);
    }
  };
  return { sleep, waitFor };
}

/** The drill's sends' final statuses through GET /notifications/:request_id (a few at a time; each tried three times). */
async function apiStatuses(sends: Send[]): Promise<{ statuses: Map<string, ApiStatus>; unanswered: number }> {
  const statuses = new Map<string, ApiStatus>();
  const requests = [...new Set(sends.map((s) => s.requestId!))];
  let unanswered = 0;
  for (let i = 0; i < requests.length; i += 10) {
    await Promise.all(
      requests.slice(i, i + 10).map(async (requestId) => {
        for (let attempt = 0; attempt < 3; attempt += 1) {
          const result = await call("GET", `/notifications/${requestId}`);
          if (result.answer === 200) {
            const data = (result.body as { data: { deliveries: { delivery_id: string; status: string; last_error_code: string | null }[] } }).data;
            for (const d of data.deliveries) statuses.set(d.delivery_id, { status: d.status, lastErrorCode: d.last_error_code });
            return;
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        unanswered += 1;
      }),
    );
  }
  return { statuses, unanswered };
}

/**
 * Waits until every accepted delivery is final in PostgreSQL and no work is left in the vhost's
 * queues, twice in a row 2 s apart (a copy waiting in a delay queue comes back), or until the
 * deadline. While PostgreSQL or the broker is away the check just fails and is tried again.
 */
async function settle(ctx: DrillContext, deadline: number): Promise<void> {
  let quietSince: number | undefined;
  while (Date.now() < deadline && !ctx.signal.aborted) {
    let done = false;
    try {
      const ids = ctx.load.accepted().map((s) => s.deliveryId!);
      const { rows } = await ctx.world.pool.query<{ open: string }>(
        "SELECT count(*) FILTER (WHERE NOT (status::text = ANY($2::text[]))) AS open FROM deliveries WHERE id = ANY($1::uuid[])",
        [ids, [...FINAL]],
      );
      done = Number(rows[0]?.open ?? 1) === 0 && Object.keys(await ctx.broker.pendingWork()).length === 0;
    } catch {
      done = false;
    }
    if (!done) quietSince = undefined;
    else if (quietSince === undefined) quietSince = Date.now();
    else if (Date.now() - quietSince >= 2000) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * One drill on its stage, bounded by its deadline (and Ctrl-C): its own sends (their marks carry
 * the run and the drill's name), the fault, the wait until everything it sent is final, then the
 * count at the receiving end and through the API. A service the drill takes away is brought back
 * by the drill's own finally (outage()); the stage is closed by the caller.
 */
export async function runDrill(drill: Drill, stage: Stage, settings: RunSettings, run: string, stop: AbortSignal): Promise<DrillResult> {
  const started = Date.now();
  const deadline = started + drill.deadlineS(settings) * 1000;
  const signal = AbortSignal.any([stop, AbortSignal.timeout(deadline - started)]);
  const result = emptyResult(drill, stage, settings, started);
  try {
    stage.receivers.smtp.delayMs = drill.smtpDelayMs ?? 0;
    await stage.receivers.smtp.set("accept");
    const ctx: DrillContext = {
      settings,
      signal,
      world: stage.world,
      system: stage.system,
      receivers: stage.receivers,
      broker: stage.broker,
      load: new Load(`${run}-${drill.name}`, stage.users),
      fault: drill.service ? stage.faults.get(drill.service) : undefined,
      env: stage.env,
      faultEnd: Date.now(),
      kills: result.kills,
      checks: result.checks,
      notes: result.notes,
      ...abortable(signal),
    };
    try {
      await drill.run(ctx);
      await settle(ctx, deadline);
    } catch (error) {
      if (stop.aborted) throw error;
      // The deadline passed mid-drill: count what there is; everything not final is stuck.
      result.notes.push(`drill stopped early: ${error instanceof Error ? error.message : String(error)}`);
    }
    await count(drill, ctx, result);
  } catch (error) {
    result.verdict = "error";
    result.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
  } finally {
    await stage.receivers.smtp.set("accept").catch(() => undefined);
    result.durationS = Math.round((Date.now() - started) / 1000);
    result.evidence ??= { health: {}, ready: {}, log: [], statuses: {}, deadLetteredTwice: 0 };
    result.evidence.log = stage.shared ? logSummary(stage.logFile, started, Date.now()) : logSummary(stage.logFile);
  }
  return result;
}

/** The verdict of a stage that could not be opened, for each of its drills. */
export function stageFailed(drill: Drill, stage: Pick<Stage, "overrides" | "logFile">, settings: RunSettings, error: unknown): DrillResult {
  const result = emptyResult(drill, stage, settings, Date.now());
  result.error = `the system could not be started for this drill: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  result.evidence = { health: {}, ready: {}, log: logSummary(stage.logFile), statuses: {}, deadLetteredTwice: 0 };
  return result;
}

function emptyResult(drill: Drill, stage: Pick<Stage, "overrides" | "logFile">, settings: RunSettings, started: number): DrillResult {
  return {
    name: drill.name,
    summary: drill.summary,
    form: drill.service ? settings.services : "-",
    env: stage.overrides,
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    verdict: "error",
    failures: [],
    tally: undefined,
    checks: [],
    kills: [],
    notes: [],
    evidence: undefined,
    logFile: path.relative(path.resolve(__dirname, "..", ".."), stage.logFile),
  };
}

/** The count at the receiving end and through the API, the drill's checks, the evidence, the verdict. */
async function count(drill: Drill, ctx: DrillContext, result: DrillResult): Promise<void> {
  result.notes.push(...answerWindows(ctx.load.sends, ctx.faultEnd));
  const unanswered = ctx.load.sends.filter((s) => s.answer !== 202 && typeof s.answer !== "number");
  if (unanswered.length > 0) {
    const seen = await ctx.receivers.marksSeen(ctx.load.prefix);
    const delivered = unanswered.filter((s) => seen.has(s.mark)).length;
    result.notes.push(`${delivered} of the ${unanswered.length} sends that got no answer (reset, timeout) were delivered all the same (a client that retries them without an idempotency key sends them twice)`);
  }
  const accepted = ctx.load.accepted();
  const api = await apiStatuses(accepted);
  if (api.unanswered > 0) result.notes.push(`GET /notifications/:id did not answer for ${api.unanswered} requests (counted as stuck)`);
  const receipts = await ctx.receivers.receipts();
  result.tally = tally(ctx.load.sends, receipts, api.statuses, ctx.faultEnd, drill.allowance?.(ctx) ?? {});
  result.checks.push(...((await drill.checks?.(ctx, result.tally)) ?? []));
  const pendingWork = () => ctx.broker.pendingWork().catch((error: unknown) => ({ [`unknown (${String(error)})`]: 1 }));
  let pending = await pendingWork();
  if (Object.keys(pending).length > 0) {
    // The management API's figures lag by up to 5 s: look again before calling it stuck.
    await new Promise((r) => setTimeout(r, 6000));
    pending = await pendingWork();
  }
  if (Object.keys(pending).length > 0) result.checks.push({ name: "queues drained", ok: false, detail: `still waiting: ${JSON.stringify(pending)}` });
  const facts = await databaseFacts(ctx.world.pool, accepted.map((s) => s.deliveryId!));
  if (facts.deadLetteredTwice > 0) result.checks.push({ name: "never dead-lettered twice", ok: false, detail: `${facts.deadLetteredTwice} deliveries have two dead letters` });
  result.evidence = { ...(await workerHealth()), log: [], ...facts } satisfies Evidence;
  result.failures = [...failures(result.tally), ...result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)];
  result.verdict = result.failures.length === 0 ? "pass" : "FAIL";
}
