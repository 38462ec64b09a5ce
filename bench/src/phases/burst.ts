// burst: burstMails mails end to end through send-bulk and one email worker: the rate of each
// tenth of the burst (does it slow down as it goes?) and the memory of every process (VmRSS,
// sampled every second for the whole run; the run adds each phase's maximum per process).
import type { Bench } from "../context";
import { measuredEndToEnd, pipelineCpu } from "../email-bench";
import { ask } from "../processes";
import { fmt, num, type PhaseResult } from "../report";
import { flaggable, heraldMax, RSS_FLAG_MB } from "../rss";

export async function burstPhase(bench: Bench): Promise<PhaseResult> {
  const mails = bench.sizes.burstMails;
  bench.log(`burst: ${fmt(mails)} mails through send-bulk and the email worker...`);
  const started = Date.now();
  const e = await measuredEndToEnd(bench, mails);
  const arrivals = (await ask<number[]>(bench.sink, "arrivals")).sort((a, b) => a - b);
  // Rate of each tenth: its mails over the time since the previous tenth's last mail (the first
  // tenth: since the first mail, so that every tenth is a rate of the running pipeline; how long
  // the first mail took is reported on its own).
  const tenths: number[] = [];
  let from = arrivals[0] ?? started;
  for (let t = 1; t <= 10; t += 1) {
    const firstIndex = t === 1 ? 1 : Math.ceil(((t - 1) * arrivals.length) / 10);
    const lastIndex = Math.ceil((t * arrivals.length) / 10) - 1;
    const until = arrivals[lastIndex] ?? from;
    tenths.push((lastIndex - firstIndex + 1) / Math.max(0.001, (until - from) / 1000));
    from = until;
  }
  const firstMailMs = (arrivals[0] ?? NaN) - started;
  const rss = bench.rss.maxBetween(started);
  const flagged = Object.entries(rss).filter(([name, mb]) => mb > RSS_FLAG_MB && flaggable(name));
  const lastVsFirst = tenths[9]! / tenths[0]!;
  bench.log(`burst: ${fmt(e.result.perSecond)} mails/s; per tenth ${tenths.map((r) => fmt(r)).join(" ")}; largest Herald RSS ${fmt(heraldMax(rss))} MB`);
  return {
    headline: {},
    details: {
      mails,
      end_to_end: e.result,
      deliveries_sent: e.sent,
      first_mail_ms: num(firstMailMs, 0),
      rate_per_tenth: tenths.map((r) => num(r, 0)),
      last_tenth_vs_first: num(lastVsFirst),
      worker_event_loop_busy: num(e.workerLoop),
      cpu_ms_per_mail: num((1000 * pipelineCpu(e.cpu)) / mails),
      over_150_mb: Object.fromEntries(flagged),
    },
    lines: [
      `${fmt(mails)} mails: **${fmt(e.result.perSecond)} mails/s** from the first send-bulk request to the last mail (send-bulk accepted them in ${fmt(e.result.acceptSeconds, 1)} s); ` +
        `deliveries recorded sent ${fmt(e.sent)}, duplicates ${e.result.duplicates}.`,
      `The first mail reached the sink ${fmt(firstMailMs)} ms after the first request. Mails/s per tenth of the burst: ${tenths.map((r) => fmt(r)).join(", ")}; the last tenth against the first: **${fmt(lastVsFirst, 2)}x**.`,
      flagged.length > 0
        ? `**Over ${RSS_FLAG_MB} MB:** ${flagged.map(([name, mb]) => `${name} ${fmt(mb)} MB`).join(", ")}.`
        : `No Herald process (nor the sink) went over ${RSS_FLAG_MB} MB.`,
    ],
    cpu: [{ label: "Burst end to end", units: mails, unit: "mail", cpu: e.cpu }],
  };
}
