import type { Drill, DrillContext } from "../drill";
import { ALL_CHANNELS } from "../load";
import { PORTS, ready } from "../system";

/** Seconds from `since` to the first 202 answered after it. */
function firstAcceptedAfter(ctx: DrillContext, since: number): number | null {
  const after = ctx.load.sends.filter((s) => s.answer === 202 && s.at >= since).map((s) => s.at);
  return after.length > 0 ? (Math.min(...after) - since) / 1000 : null;
}

function refused(ctx: DrillContext): number {
  return ctx.load.sends.filter((s) => s.answer === "refused").length;
}

/** One of the gateway's GATEWAY_PROCESSES copies SIGKILLed under load: the others keep the port. */
export const gatewayKill: Drill = {
  name: "gateway-kill",
  summary: "Sends at 20/s on every channel; one of the gateway's processes (GATEWAY_PROCESSES=2, node:cluster) is SIGKILLed; its primary starts another.",
  short: true,
  sends: 300,
  channels: ALL_CHANNELS,
  deadlineS: (s) => (s.short ? 100 : 150),
  async run(ctx) {
    const stream = ctx.load.stream({ count: 300, perSecond: 20, channels: ALL_CHANNELS, signal: ctx.signal });
    await ctx.sleep(4000);
    const copies = ctx.system.gatewayCopies();
    const victim = copies[0];
    if (!victim) throw new Error("the gateway runs no copies (GATEWAY_PROCESSES < 2?)");
    ctx.system.kill(victim);
    ctx.faultEnd = Date.now();
    ctx.kills.push({ app: "api-gateway (one copy)", pid: victim.pid, at: ctx.faultEnd, onTheWire: 0 });
    ctx.notes.push(`killed gateway copy ${victim.pid} (of ${copies.length})`);
    await ctx.waitFor(() => !ctx.system.gatewayCopies().some((c) => c.pid === victim.pid), 10_000, "the killed copy to be gone");
    await ctx.waitFor(() => ctx.system.gatewayCopies().length >= copies.length, 60_000, "the gateway's primary to start another copy");
    ctx.notes.push(`a new copy was running ${((Date.now() - ctx.faultEnd) / 1000).toFixed(1)} s after the kill`);
    await stream;
    ctx.notes.push(`first 202 after the kill: ${firstAcceptedAfter(ctx, ctx.faultEnd) ?? "none"} s`);
  },
  checks: (ctx) => {
    const n = refused(ctx);
    return Promise.resolve([{ name: "no client sees a refused connection", ok: n === 0, detail: `${n} connections refused` }]);
  },
};

/** The whole gateway (primary and copies) SIGKILLed under load: the launcher's supervisor restarts it. */
export const gatewayKillAll: Drill = {
  name: "gateway-kill-all",
  summary: "Sends at 20/s on every channel; the gateway's primary and all its processes are SIGKILLed at once; the supervisor restarts it (refused connections and non-202 answers counted).",
  short: false,
  sends: 400,
  channels: ALL_CHANNELS,
  deadlineS: () => 180,
  async run(ctx) {
    const stream = ctx.load.stream({ count: 400, perSecond: 20, channels: ALL_CHANNELS, signal: ctx.signal });
    await ctx.sleep(4000);
    const primary = ctx.system.processOf("api-gateway");
    if (!primary) throw new Error("no gateway process");
    const copies = ctx.system.gatewayCopies();
    for (const p of [primary, ...copies]) ctx.system.kill(p);
    ctx.faultEnd = Date.now();
    ctx.kills.push({ app: "api-gateway (primary and copies)", pid: primary.pid, at: ctx.faultEnd, onTheWire: 0 });
    ctx.notes.push(`killed gateway primary ${primary.pid} and copies ${copies.map((c) => c.pid).join(", ")}`);
    await ctx.waitFor(async () => {
      const p = ctx.system.processOf("api-gateway");
      return p !== undefined && p.pid !== primary.pid && (await ready(PORTS.gateway));
    }, 90_000, "the supervisor to restart the gateway");
    ctx.notes.push(`gateway ready again ${((Date.now() - ctx.faultEnd) / 1000).toFixed(1)} s after the kill`);
    await stream;
    ctx.notes.push(`first 202 after the kill: ${firstAcceptedAfter(ctx, ctx.faultEnd) ?? "none"} s; ${refused(ctx)} connections refused meanwhile`);
  },
};
