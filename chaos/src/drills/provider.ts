import { call } from "../api";
import type { Drill, DrillContext, RunSettings } from "../drill";
import type { SinkMode } from "../smtp-sink";
import { PORTS } from "../system";
import { nothingDeadLettered } from "./common";

/** The short form's breaker recovery time: the outage still lasts longer, so the half-open trial runs (and fails) at least once. */
const SHORT_RECOVERY_S = 10;
const SHORT_OUTAGE_S = 25;
const FULL_OUTAGE_S = 120;

const outageS = (s: RunSettings) => (s.short ? SHORT_OUTAGE_S : FULL_OUTAGE_S);
const shortBreaker = (s: RunSettings): Record<string, string> => (s.short ? { CIRCUIT_BREAKER_RECOVERY_TIMEOUT: `${SHORT_RECOVERY_S}s` } : {});

/** Polls the email worker's /health and keeps every change of its SMTP breaker (and what it had in flight), relative to `since`. */
function watchBreaker(ctx: DrillContext, since: number): () => string {
  const seen: string[] = [];
  let last = "";
  let running = true;
  const poll = async () => {
    while (running && !ctx.signal.aborted) {
      try {
        const response = await fetch(`http://127.0.0.1:${PORTS.emailWorker}/health`, { signal: AbortSignal.timeout(2000) });
        const data = ((await response.json()) as { data: { breakers?: Record<string, string>; in_flight?: number } }).data;
        // The SMTP provider's breaker ("smtp", or "smtp:<host>:<port>" with failover).
        const state = Object.entries(data.breakers ?? {}).find(([name]) => name.startsWith("smtp"))?.[1] ?? "?";
        if (state !== last) {
          seen.push(`${state} at +${((Date.now() - since) / 1000).toFixed(0)} s (in flight ${data.in_flight ?? "?"})`);
          last = state;
        }
      } catch {
        if (last !== "no answer") seen.push(`no answer at +${((Date.now() - since) / 1000).toFixed(0)} s`);
        last = "no answer";
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void poll();
  return () => {
    running = false;
    return seen.join(" → ");
  };
}

/**
 * The SMTP provider away for 2 minutes (25 s in the short form, with the breaker's recovery time
 * cut to 10 s) while 50 mails are sent, after 10 sent before it: every one must be delivered once
 * the provider is back, none dead-lettered, and the worker must not wedge.
 */
function providerOutage(name: string, mode: SinkMode, what: string, short: boolean): Drill {
  return {
    name,
    summary: `10 mails, then the SMTP provider ${what} for 2 min (short: ${SHORT_OUTAGE_S} s with CIRCUIT_BREAKER_RECOVERY_TIMEOUT=${SHORT_RECOVERY_S}s) while 50 more are sent; then it recovers.`,
    short,
    sends: 60,
    channels: ["email"],
    env: shortBreaker,
    deadlineS: (s) => outageS(s) + (s.short ? 150 : 240),
    async run(ctx) {
      const seconds = outageS(ctx.settings);
      await ctx.load.stream({ count: 10, perSecond: 10, channels: ["email"], signal: ctx.signal });
      await ctx.waitFor(() => ctx.receivers.smtp.receipts().length >= 10, 60_000, "the first 10 mails");
      const cut = Date.now();
      const seen = { connections: ctx.receivers.smtp.connections, data: ctx.receivers.smtp.dataAttempts };
      const breaker = watchBreaker(ctx, cut);
      try {
        await ctx.receivers.smtp.set(mode);
        const spread = Math.max(5, Math.min(seconds - 5, 50));
        await ctx.load.stream({ count: 50, perSecond: 50 / spread, channels: ["email"], signal: ctx.signal });
        const rest = cut + seconds * 1000 - Date.now();
        if (rest > 0) await ctx.sleep(rest);
      } finally {
        await ctx.receivers.smtp.set("accept");
      }
      ctx.faultEnd = Date.now();
      ctx.notes.push(`provider ${mode} for ${((ctx.faultEnd - cut) / 1000).toFixed(0)} s; the sink saw ${ctx.receivers.smtp.connections - seen.connections} connections and ${ctx.receivers.smtp.dataAttempts - seen.data} DATA meanwhile`);
      await ctx.waitFor(() => ctx.receivers.smtp.receipts().length >= 60, 150_000, "every mail after the provider came back").catch(() => undefined);
      ctx.notes.push(`email breaker: ${breaker()}`);
    },
    checks: (_ctx, tally) => Promise.resolve([nothingDeadLettered(tally)]),
  };
}

export const smtpRefuse = providerOutage("smtp-refuse", "refuse", "refuses connections", true);
export const smtpSilent = providerOutage("smtp-silent", "silent", "accepts TCP and never answers (no greeting; open connections go silent)", false);
export const smtpHang = providerOutage("smtp-hang", "hang", "greets but hangs every mail mid-DATA (never answers the end of DATA)", false);

interface DeadLetterCounts {
  total: number;
  byCode: Record<string, number>;
}

async function deadLetters(ctx: DrillContext): Promise<DeadLetterCounts> {
  const { rows } = await ctx.world.pool.query<{ error_code: string; n: string }>("SELECT error_code, count(*) AS n FROM dead_letters GROUP BY error_code");
  const byCode = Object.fromEntries(rows.map((r) => [r.error_code, Number(r.n)]));
  return { total: rows.reduce((n, r) => n + Number(r.n), 0), byCode };
}

/** The provider rejects every mail with 550: all dead-lettered at once; fixed, then POST /dlq/replay: every one delivered once. */
export const smtpRejectReplay: Drill = {
  name: "smtp-reject-replay",
  summary: "The SMTP provider rejects every mail permanently (550) while 30 are sent: all dead-lettered at once; then it is fixed and POST /dlq/replay replays them in bulk: every one delivered exactly once.",
  short: false,
  sends: 30,
  channels: ["email"],
  deadlineS: () => 180,
  async run(ctx) {
    await ctx.receivers.smtp.set("reject");
    await ctx.load.bulk("email", 30);
    const accepted = ctx.load.accepted().length;
    const before = await ctx.waitFor(
      async () => {
        const counts = await deadLetters(ctx);
        return counts.total >= accepted ? counts : undefined;
      },
      60_000,
      "every mail dead-lettered",
    );
    ctx.notes.push(`before the replay: ${before.total} dead letters (${Object.entries(before.byCode).map(([c, n]) => `${c} ${n}`).join(", ")})`);
    ctx.checks.push({
      name: "rejected mails dead-lettered at once, smtp_550",
      ok: before.total === accepted && before.byCode.smtp_550 === accepted,
      detail: `${before.byCode.smtp_550 ?? 0} of ${accepted} smtp_550`,
    });
    await ctx.receivers.smtp.set("accept");
    ctx.faultEnd = Date.now();
    let replayed = 0;
    for (let i = 0; i < 10; i += 1) {
      const result = await call("POST", "/dlq/replay", { channel: "email" }, 60_000);
      if (result.answer !== 202) throw new Error(`POST /dlq/replay answered ${String(result.answer)} ${JSON.stringify(result.body)}`);
      const data = (result.body as { data: { replayed: number; remaining: number } }).data;
      replayed += data.replayed;
      if (data.remaining === 0) break;
    }
    ctx.notes.push(`POST /dlq/replay replayed ${replayed}`);
    ctx.checks.push({ name: "bulk replay took every dead letter", ok: replayed === accepted, detail: `${replayed} replayed of ${accepted}` });
  },
};
