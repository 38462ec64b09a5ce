import type { Tally } from "../counting";
import type { Check, DrillContext, Kill } from "../drill";
import type { DrillChannel } from "../load";
import { ready } from "../system";

/** The channels whose attempts a dead worker left on the wire are resent (INTERRUPTED_RESEND_CHANNELS; the config's default). */
export function resendChannels(env: Record<string, string>): Set<string> {
  return new Set((env.INTERRUPTED_RESEND_CHANNELS ?? "email,push,webhook").split(",").map((c) => c.trim()).filter(Boolean));
}

/** A provider's connections, as the worker is configured (SMTP_MAX_CONNECTIONS for email, default 5). */
export function smtpConnections(env: Record<string, string>): number {
  return Number(env.SMTP_MAX_CONNECTIONS ?? 5);
}

/**
 * SIGKILL a worker process and record what it left on the wire: the deliveries its instance had
 * claimed (a claim is taken right before the provider call), read right after it died and before
 * the supervisor starts the next one.
 */
export async function killWorker(ctx: DrillContext, app: string): Promise<Kill> {
  const target = ctx.system.processOf(app);
  if (!target) throw new Error(`${app} is not running`);
  ctx.system.kill(target);
  const at = Date.now();
  await ctx.waitFor(() => !ctx.system.processes().some((p) => p.pid === target.pid), 10_000, `${app} (${target.pid}) to die`);
  const { rows } = await ctx.world.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM deliveries WHERE status = 'processing'
       AND claimed_by IN (SELECT id FROM worker_instances WHERE pid = $1 AND service = $2)`,
    [target.pid, app],
  );
  const kill: Kill = { app, pid: target.pid, at, onTheWire: Number(rows[0]?.n ?? 0) };
  ctx.kills.push(kill);
  return kill;
}

/** Waits until the supervisor has started `app` again and it is ready. */
export async function waitRestarted(ctx: DrillContext, app: string, port: number, killedPid: number, timeoutMs = 60_000): Promise<number> {
  const started = Date.now();
  await ctx.waitFor(
    async () => {
      const p = ctx.system.processOf(app);
      return p !== undefined && p.pid !== killedPid && (await ready(port));
    },
    timeoutMs,
    `${app} to be restarted and ready`,
  );
  return Date.now() - started;
}

/**
 * What the on-the-wire policy allows after worker kills, per channel: for a `resend` channel each
 * kill may cost at most what it had on the wire (its claims), and never more than the provider's
 * connections; for a `dead_letter` channel nothing is sent twice.
 */
export function killAllowance(ctx: DrillContext, channel: DrillChannel, connections: number): Partial<Record<DrillChannel, number>> {
  if (!resendChannels(ctx.env).has(channel)) return { [channel]: 0 };
  return { [channel]: ctx.kills.reduce((n, k) => n + Math.min(k.onTheWire, connections), 0) };
}

/** Deliveries dead-lettered `delivery_interrupted`: none for a resend channel, at most what was on the wire otherwise. */
export function interruptedCheck(ctx: DrillContext, tally: Tally, channel: DrillChannel): Check {
  const interrupted = tally.byChannel[channel]?.deadLettered.delivery_interrupted ?? 0;
  const allowed = resendChannels(ctx.env).has(channel) ? 0 : ctx.kills.reduce((n, k) => n + k.onTheWire, 0);
  return {
    name: "interrupted attempts",
    ok: interrupted <= allowed,
    detail: `${interrupted} dead-lettered delivery_interrupted (allowed ${allowed}: ${channel} is ${resendChannels(ctx.env).has(channel) ? "resend" : "dead_letter"})`,
  };
}

/** Nothing dead-lettered: the fault was temporary, so everything must be delivered. */
export function nothingDeadLettered(tally: Tally): Check {
  const codes = Object.entries(tally.deadLettered);
  const n = codes.reduce((sum, [, c]) => sum + c, 0);
  return { name: "all delivered, none dead-lettered", ok: n === 0, detail: n === 0 ? "0 dead letters" : `${n} dead-lettered (${codes.map(([c, k]) => `${c} ${k}`).join(", ")})` };
}

/** The mails a receiver has got so far. */
export function receivedMails(ctx: DrillContext): number {
  return ctx.receivers.smtp.receipts().length;
}
