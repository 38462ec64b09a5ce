// steady: an open-loop load of steadyRate sends/s (a fixed schedule of start times) for
// steadySeconds through the gateway and one email worker: how long a send waits for its 202, and
// how long from the 202 until its mail is at the SMTP sink (each mail's subject carries a mark).
import type { App, Bench } from "../context";
import { measureCpu } from "../cpu";
import { waitForCount } from "../email-bench";
import { openLoop, type OpenLoopResult } from "../open-loop";
import { ask } from "../processes";
import { fmt, num, percentile, type CpuTable, type PhaseResult } from "../report";

export const OPEN_LOOP_CLIENT = "open-loop client (bench)";

export interface SteadyMeasure {
  load: OpenLoopResult;
  /** 202 -> mail at the sink, ms, of every accepted send that arrived. */
  e2eMs: number[];
  missing: number;
  cpu: CpuTable;
}

/** The open loop against the running gateway and workers, then the wait for its mails at the sink. */
export async function steadyLoad(bench: Bench, gateway: App, rate: number, seconds: number, processes: Record<string, number | undefined>, label: string): Promise<SteadyMeasure> {
  await bench.resetSink();
  const { result: load, cpu } = await measureCpu({ ...processes, [OPEN_LOOP_CLIENT]: process.pid, "SMTP sink": bench.sink.pid }, async () => {
    const result = await openLoop(gateway.url, bench.env.userIds, rate, seconds);
    await waitForCount(bench.sink, result.accepted, 30_000 + 10 * result.accepted).catch(() => undefined);
    return result;
  });
  const marks = await ask<Record<string, number>>(bench.sink, "marks");
  const e2eMs: number[] = [];
  let missing = 0;
  for (const send of load.sends) {
    if (send.answeredAt === 0) continue;
    const at = marks[send.mark];
    if (at === undefined) missing += 1;
    else e2eMs.push(at - send.answeredAt);
  }
  return { load, e2eMs, missing, cpu: { label, units: load.accepted, unit: "send", cpu } };
}

export function steadyLines(m: SteadyMeasure): string[] {
  const { load } = m;
  return [
    `Open loop: ${fmt(load.rate)} sends/s for ${load.seconds} s (${fmt(load.sends.length)} scheduled; ${load.late} started more than 5 ms late, the latest by ${fmt(load.maxLateMs)} ms); ` +
      `accepted ${fmt(load.accepted)}, refused ${load.refused}, errors ${load.errors}.`,
    `Accept (scheduled start -> 202): p50 ${fmt(load.acceptP50Ms, 1)} ms, **p99 ${fmt(load.acceptP99Ms, 1)} ms**, max ${fmt(load.acceptMaxMs)} ms. ` +
      `202 -> mail at the sink: p50 ${fmt(percentile(m.e2eMs, 50), 1)} ms, **p99 ${fmt(percentile(m.e2eMs, 99), 1)} ms**, max ${fmt(Math.max(...m.e2eMs))} ms; ${m.missing} accepted mails never arrived.`,
  ];
}

export function steadyDetails(m: SteadyMeasure): Record<string, unknown> {
  const { sends: _sends, seconds, ...load } = m.load;
  return {
    load_seconds: seconds,
    ...load,
    e2e_p50_ms: num(percentile(m.e2eMs, 50), 1),
    e2e_p99_ms: num(percentile(m.e2eMs, 99), 1),
    e2e_max_ms: num(Math.max(...m.e2eMs), 1),
    missing: m.missing,
  };
}

export async function steadyPhase(bench: Bench): Promise<PhaseResult> {
  const { sizes } = bench;
  const gateway = await bench.gateway();
  await bench.purgeEmailQueue();
  const [worker] = await bench.workers(1);
  bench.log(`steady: ${sizes.steadyRate} sends/s on a fixed schedule for ${sizes.steadySeconds} s, each mail marked and timed at the sink...`);
  const m = await steadyLoad(bench, gateway, sizes.steadyRate, sizes.steadySeconds, { gateway: gateway.pid, "email worker": worker!.pid }, "Steady load, gateway and worker");
  await bench.stopWorkers();
  const lines = steadyLines(m);
  bench.log(`steady: ${lines[1]!.replace(/\*\*/g, "")}`);
  return {
    headline: { steady_accept_p99_ms: num(m.load.acceptP99Ms, 1), steady_e2e_p99_ms: num(percentile(m.e2eMs, 99), 1) },
    details: steadyDetails(m),
    lines,
    cpu: [m.cpu],
  };
}
