import path from "node:path";
import { call } from "./api";
import { Broker } from "./broker";
import { failures, FINAL, tally, type ApiStatus } from "./counting";
import type { Drill, DrillContext, DrillResult, RunSettings } from "./drill";
import { databaseFacts, logSummary, workerHealth, type Evidence } from "./evidence";
import { createTemplates, createUsers, Load, usersFor, type Send } from "./load";
import { Receivers } from "./receivers";
import { proxyFault, realFault, type ServiceFault } from "./service-faults";
import { System, systemEnv, type ServiceTargets } from "./system";
import { createWorld, serviceUrls, throughPort, withVhost, type World } from "./world";

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

function targets(world: World, fault: ServiceFault | undefined): ServiceTargets {
  const urls = serviceUrls();
  const proxied = (service: string, url: string) => (fault?.form === "proxy" && fault.service === service ? throughPort(url, fault.port) : url);
  return {
    databaseUrl: proxied("postgres", world.databaseUrl),
    redisUrl: proxied("redis", urls.redis),
    redisPrefix: world.redisPrefix,
    rabbitmqUrl: proxied("rabbitmq", withVhost(urls.rabbitmq, world.vhost)),
    managementUrl: urls.management,
  };
}

/**
 * One drill, bounded: its own world (database, vhost, key prefix), the receivers, the whole system
 * started as `npm start` starts it, the drill's sends and fault, then the count at the receiving
 * end and through the API. Whatever happens (a failure, the deadline, Ctrl-C), everything it
 * started is stopped and removed, and a service it took away is brought back and checked.
 */
export async function runDrill(drill: Drill, settings: RunSettings, run: string, template: string, logDir: string, stop: AbortSignal): Promise<DrillResult> {
  const started = Date.now();
  const deadline = started + drill.deadlineS(settings) * 1000;
  const signal = AbortSignal.any([stop, AbortSignal.timeout(deadline - started)]);
  const logFile = path.join(logDir, `${drill.name}.log`);
  const env: Record<string, string> = { ...(drill.env?.(settings) ?? {}) };
  const result: DrillResult = {
    name: drill.name,
    summary: drill.summary,
    form: drill.service ? settings.services : "-",
    env,
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    verdict: "error",
    failures: [],
    tally: undefined,
    checks: [],
    kills: [],
    notes: [],
    evidence: undefined,
    logFile: path.relative(path.resolve(logDir, "..", "..", ".."), logFile),
  };
  let world: World | undefined;
  let fault: ServiceFault | undefined;
  let receivers: Receivers | undefined;
  let system: System | undefined;
  let broker: Broker | undefined;
  try {
    world = await createWorld(run, drill.name, template);
    if (drill.service) {
      fault = settings.services === "real" ? realFault(drill.service) : proxyFault(drill.service);
      if (fault.form === "proxy") await fault.restore();
    }
    receivers = new Receivers(world.pool, drill.smtpDelayMs ?? 0);
    await receivers.start();
    const fullEnv = systemEnv(targets(world, fault), env);
    system = new System(fullEnv, logFile);
    await system.start();
    broker = await Broker.open(withVhost(serviceUrls().rabbitmq, world.vhost), serviceUrls().management, world.vhost);
    await createTemplates();
    const users = await createUsers(usersFor(drill.sends), receivers.webhookUrl());
    const ctx: DrillContext = {
      settings,
      signal,
      world,
      system,
      receivers,
      broker,
      load: new Load(`${run}-${drill.name}`, users),
      fault,
      env: fullEnv,
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
    const accepted = ctx.load.accepted();
    const { statuses, unanswered } = await apiStatuses(accepted);
    if (unanswered > 0) result.notes.push(`GET /notifications/:id did not answer for ${unanswered} requests (counted as stuck)`);
    const receipts = await receivers.receipts();
    result.tally = tally(ctx.load.sends, receipts, statuses, ctx.faultEnd, drill.allowance?.(ctx) ?? {});
    result.checks.push(...((await drill.checks?.(ctx, result.tally)) ?? []));
    const ids = accepted.map((s) => s.deliveryId!);
    const facts = await databaseFacts(world.pool, ids);
    if (facts.deadLetteredTwice > 0) result.checks.push({ name: "never dead-lettered twice", ok: false, detail: `${facts.deadLetteredTwice} deliveries have two dead letters` });
    result.evidence = { ...(await workerHealth()), log: [], ...facts } satisfies Evidence;
    result.failures = [...failures(result.tally), ...result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)];
    result.verdict = result.failures.length === 0 ? "pass" : "FAIL";
  } catch (error) {
    result.verdict = "error";
    result.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
  } finally {
    await broker?.close();
    await system?.stop().catch((error: unknown) => result.notes.push(`stopping the system: ${String(error)}`));
    await receivers?.stop();
    await fault?.close().catch(() => undefined);
    await world?.close().catch((error: unknown) => result.notes.push(`removing the drill's database/vhost: ${String(error)}`));
    if (result.evidence) result.evidence.log = logSummary(logFile);
    else result.evidence = { health: {}, ready: {}, log: logSummary(logFile), statuses: {}, deadLetteredTwice: 0 };
    result.durationS = Math.round((Date.now() - started) / 1000);
  }
  return result;
}
