// email: a burst through send-bulk, PostgreSQL, RabbitMQ and the email worker into the SMTP sink,
// against pooled nodemailer writing the same mails straight into the same sink (the ceiling).
import type { Bench } from "../context";
import { cpuOf, measureCpu } from "../cpu";
import { measuredEndToEnd, pipelineCpu, rawSmtp, RAW_SENDER } from "../email-bench";
import { fmt, num, type PhaseResult } from "../report";

export async function emailPhase(bench: Bench): Promise<PhaseResult> {
  const { sizes } = bench;
  const mails = sizes.e2eMails;
  bench.log(`email: ${fmt(mails)} mails with pooled nodemailer straight into the sink (the ceiling)...`);
  const raw = await measureCpu({ [RAW_SENDER]: process.pid, "SMTP sink": bench.sink.pid }, () => rawSmtp(bench.sink, bench.sinkPort, mails, sizes.smtpConnections));
  const rawPerMail = cpuOf(raw.cpu, (n) => n === RAW_SENDER || n === "SMTP sink") / mails;

  bench.log(`email: a burst of ${fmt(mails)} through send-bulk, the broker and the email worker into the sink...`);
  const e2e = await measuredEndToEnd(bench, mails);
  const e2ePerMail = pipelineCpu(e2e.cpu) / mails;
  const cpuRatio = e2ePerMail / rawPerMail;
  const rateRatio = e2e.result.perSecond / raw.result.perSecond;
  const bulkRate = mails / e2e.result.acceptSeconds;
  bench.log(`email: ${fmt(e2e.result.perSecond)} mails/s against ${fmt(raw.result.perSecond)}: rate ${fmt(rateRatio, 2)}x, CPU per mail ${fmt(cpuRatio, 2)}x`);
  return {
    headline: { e2e_cpu_ratio: num(cpuRatio), e2e_rate_ratio: num(rateRatio) },
    details: {
      mails,
      smtp_connections: sizes.smtpConnections,
      raw_smtp: raw.result,
      end_to_end: e2e.result,
      send_bulk_accepted_per_second: num(bulkRate, 0),
      deliveries_sent: e2e.sent,
      worker_event_loop_busy: num(e2e.workerLoop),
      cpu_ms_per_mail: { end_to_end: num(1000 * e2ePerMail), raw: num(1000 * rawPerMail) },
    },
    lines: [
      `${fmt(mails)} mails, ${sizes.smtpConnections} SMTP connections each way. Pooled nodemailer into the sink: **${fmt(raw.result.perSecond)} mails/s**; ` +
        `send-bulk -> PostgreSQL -> RabbitMQ -> email worker -> sink: **${fmt(e2e.result.perSecond)} mails/s** (${fmt(rateRatio, 2)}x), ` +
        `from the first send-bulk request to the last mail; duplicates ${raw.result.duplicates} / ${e2e.result.duplicates}; deliveries recorded sent: ${e2e.sent}.`,
      `CPU per mail: every process of the path (gateway, worker, sink, PostgreSQL, RabbitMQ, Redis) ${fmt(1000 * e2ePerMail, 2)} ms against nodemailer and the sink ${fmt(1000 * rawPerMail, 2)} ms: **${fmt(cpuRatio, 2)}x**.`,
      `send-bulk accepted the ${fmt(mails)} in ${fmt(e2e.result.acceptSeconds, 2)} s (${fmt(bulkRate)}/s, while the worker drained them). The worker's event loop was busy ${fmt(100 * e2e.workerLoop)}%.`,
    ],
    cpu: [
      { label: "Pooled nodemailer into the sink", units: mails, unit: "mail", cpu: raw.cpu },
      { label: "End to end", units: mails, unit: "mail", cpu: e2e.cpu },
    ],
  };
}
