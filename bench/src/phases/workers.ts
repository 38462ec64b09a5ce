// workers: 1, 2 and 4 (workerCounts) email worker processes on the one email.queue: the rate of a
// burst of workerMails through send-bulk, and the CPU per mail of the workers and of everything.
import type { Bench } from "../context";
import { cpuOf } from "../cpu";
import { measuredEndToEnd, pipelineCpu } from "../email-bench";
import { fmt, num, type CpuTable, type PhaseResult } from "../report";

export async function workersPhase(bench: Bench): Promise<PhaseResult> {
  const { workerMails: mails, workerCounts } = bench.sizes;
  const rows: { workers: number; mailsPerSecond: number; workerCpuMsPerMail: number; allCpuMsPerMail: number; sent: number; duplicates: number }[] = [];
  const tables: CpuTable[] = [];
  for (const count of workerCounts) {
    bench.log(`workers: ${count} email worker process${count === 1 ? "" : "es"}, ${fmt(mails)} mails...`);
    const e = await measuredEndToEnd(bench, mails, count);
    rows.push({
      workers: count,
      mailsPerSecond: e.result.perSecond,
      workerCpuMsPerMail: (1000 * cpuOf(e.cpu, (n) => n.startsWith("email worker"))) / mails,
      allCpuMsPerMail: (1000 * pipelineCpu(e.cpu)) / mails,
      sent: e.sent,
      duplicates: e.result.duplicates,
    });
    tables.push({ label: `${count} email worker${count === 1 ? "" : "s"}`, units: mails, unit: "mail", cpu: e.cpu });
    bench.log(`workers: ${count}: ${fmt(e.result.perSecond)} mails/s, workers ${fmt(rows.at(-1)!.workerCpuMsPerMail, 2)} ms CPU per mail`);
  }
  return {
    headline: {},
    details: {
      mails,
      runs: rows.map((r) => ({
        workers: r.workers,
        mails_per_second: num(r.mailsPerSecond, 0),
        worker_cpu_ms_per_mail: num(r.workerCpuMsPerMail),
        all_cpu_ms_per_mail: num(r.allCpuMsPerMail),
        sent: r.sent,
        duplicates: r.duplicates,
      })),
    },
    lines: [
      `A burst of ${fmt(mails)} through send-bulk into each set of workers (started fresh, ${bench.sizes.smtpConnections} SMTP connections each), from the first request to the last mail:`,
      "| workers | mails/s | vs 1 worker | workers' CPU ms per mail | all processes' CPU ms per mail | sent | duplicates |\n|---:|---:|---:|---:|---:|---:|---:|\n" +
        rows
          .map(
            (r) =>
              `| ${r.workers} | ${fmt(r.mailsPerSecond)} | ${fmt(r.mailsPerSecond / rows[0]!.mailsPerSecond, 2)}x | ${fmt(r.workerCpuMsPerMail, 2)} | ${fmt(r.allCpuMsPerMail, 2)} | ${r.sent} | ${r.duplicates} |`,
          )
          .join("\n"),
    ],
    cpu: tables,
  };
}
