import type { Drill } from "../drill";
import { PORTS } from "../system";
import { interruptedCheck, killAllowance, killWorker, receivedMails, smtpConnections, waitRestarted } from "./common";

/** The email worker SIGKILLed once, mid-burst: 200 mails through send-bulk, the provider taking 20 ms a mail. */
export const workerKill: Drill = {
  name: "worker-kill",
  summary: "200 mails in one burst (send-bulk), the SMTP provider taking 20 ms per mail; the email worker is SIGKILLed once 40 have arrived; the supervisor restarts it.",
  short: true,
  smtpDelayMs: 20,
  sends: 200,
  channels: ["email"],
  deadlineS: (s) => (s.short ? 120 : 180),
  async run(ctx) {
    await ctx.load.bulk("email", 200);
    await ctx.waitFor(() => receivedMails(ctx) >= 40, 60_000, "40 mails at the sink");
    const kill = await killWorker(ctx, "email-worker");
    ctx.notes.push(`killed email-worker ${kill.pid} with ${receivedMails(ctx)} mails at the sink; ${kill.onTheWire} deliveries claimed by it (on the wire)`);
    await waitRestarted(ctx, "email-worker", PORTS.emailWorker, kill.pid);
    // The fault lasts until the replacement is ready: recovery counts from there.
    ctx.faultEnd = Date.now();
    ctx.notes.push(`email-worker restarted and ready ${((ctx.faultEnd - kill.at) / 1000).toFixed(1)} s after the kill`);
  },
  allowance: (ctx) => killAllowance(ctx, "email", smtpConnections(ctx.env)),
  checks: (ctx, tally) => Promise.resolve([interruptedCheck(ctx, tally, "email")]),
};

/** Three SIGKILLs within 30 s while 300 mails flow at 10 a second. */
export const workerKill3x: Drill = {
  name: "worker-kill-3x",
  summary: "300 mails at 10/s (the provider taking 20 ms per mail); the email worker is SIGKILLed three times in 30 s, each time once its replacement has delivered again.",
  short: false,
  smtpDelayMs: 20,
  sends: 300,
  channels: ["email"],
  deadlineS: () => 240,
  async run(ctx) {
    const stream = ctx.load.stream({ count: 300, perSecond: 10, channels: ["email"], signal: ctx.signal });
    const first = Date.now();
    for (let i = 0; i < 3; i += 1) {
      // Each kill lands mid-flow: its worker has delivered since it started.
      const before = receivedMails(ctx);
      await ctx.waitFor(() => receivedMails(ctx) >= before + 10, 60_000, "mails flowing again");
      const due = first + 3000 + i * 12_000;
      if (Date.now() < due) await ctx.sleep(due - Date.now());
      const kill = await killWorker(ctx, "email-worker");
      await waitRestarted(ctx, "email-worker", PORTS.emailWorker, kill.pid);
      ctx.faultEnd = Date.now();
      ctx.notes.push(`kill ${i + 1} at +${((kill.at - first) / 1000).toFixed(1)} s: email-worker ${kill.pid}, ${kill.onTheWire} on the wire; replacement ready ${((ctx.faultEnd - kill.at) / 1000).toFixed(1)} s later`);
    }
    const span = (ctx.kills.at(-1)!.at - ctx.kills[0]!.at) / 1000;
    ctx.notes.push(`three kills within ${span.toFixed(1)} s`);
    await stream;
  },
  allowance: (ctx) => killAllowance(ctx, "email", smtpConnections(ctx.env)),
  checks: (ctx, tally) => {
    const span = ctx.kills.length === 3 ? (ctx.kills[2]!.at - ctx.kills[0]!.at) / 1000 : Infinity;
    return Promise.resolve([interruptedCheck(ctx, tally, "email"), { name: "three kills in 30 s", ok: span <= 30, detail: `${ctx.kills.length} kills within ${span.toFixed(1)} s` }]);
  },
};
