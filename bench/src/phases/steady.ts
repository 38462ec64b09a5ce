// steady: an open-loop load of steadyRate sends/s (a fixed schedule of start times) for
// steadySeconds through the gateway and one email worker: how long a send waits for its 202, and
// how long from the 202 until its mail is at the SMTP sink (each mail's subject carries a mark).
import type { App, Bench } from "../context";
import { cpuOf, measureCpu } from "../cpu";
import { waitForCount } from "../email-bench";
import { openLoop, type OpenLoopResult } from "../open-loop";
import { ask, freePort, stop } from "../processes";
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

/** How long the floor's open loop runs: long enough for a steady CPU figure, short beside the phase. */
const FLOOR_SECONDS = 10;

export interface SteadyFloor {
  load: OpenLoopResult;
  cpu: CpuTable;
  /** The trivial handler's CPU per request at this rate. */
  perRequestMs: number;
}

/**
 * The same-run ceiling of the steady phase: the trivial Express handler under the same open loop.
 * At a moderate rate every process sleeps between requests, and on this host a request that
 * wakes a process costs several times one that finds it busy (the trivial handler: about 1.1-1.5 ms
 * per request at 200/s against 0.15-0.4 ms at thousands per second), so the steady phase's CPU
 * per send is read against this, not against the gateway phase's closed loop.
 */
export async function steadyFloor(bench: Bench, rate: number, seconds: number): Promise<SteadyFloor> {
  const port = await freePort();
  const server = await bench.fork("trivial-server", [String(port)]);
  try {
    const { result: load, cpu } = await measureCpu({ "trivial handler": server.pid, [OPEN_LOOP_CLIENT]: process.pid }, () =>
      openLoop(`http://127.0.0.1:${port}`, bench.env.userIds, rate, seconds),
    );
    return {
      load,
      cpu: { label: "Trivial handler at the same open-loop rate", units: load.accepted, unit: "request", cpu },
      perRequestMs: (1000 * cpuOf(cpu, (name) => name === "trivial handler")) / load.accepted,
    };
  } finally {
    await stop(server);
  }
}

/** CPU per send of the gateway (alone) at the steady rate. */
const gatewayPerSendMs = (m: SteadyMeasure) => (1000 * cpuOf(m.cpu.cpu, (name) => name === "gateway")) / m.load.accepted;

export function floorLine(m: SteadyMeasure, floor: SteadyFloor): string {
  return (
    `The same open loop against the trivial Express handler (${floor.load.seconds} s, ${fmt(floor.load.rate)} requests/s): ${fmt(floor.perRequestMs, 3)} ms of CPU per request; ` +
    `the gateway alone spent ${fmt(gatewayPerSendMs(m), 3)} ms per send at this rate, **${fmt(gatewayPerSendMs(m) / floor.perRequestMs, 2)}x** the handler.`
  );
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
  const floor = await steadyFloor(bench, sizes.steadyRate, Math.min(FLOOR_SECONDS, sizes.steadySeconds));
  const floorText = floorLine(m, floor);
  bench.log(`steady: ${floorText.replace(/\*\*/g, "")}`);
  return {
    headline: { steady_accept_p99_ms: num(m.load.acceptP99Ms, 1), steady_e2e_p99_ms: num(percentile(m.e2eMs, 99), 1) },
    details: { ...steadyDetails(m), floor_ms_per_request: num(floor.perRequestMs, 3), gateway_ms_per_send: num(gatewayPerSendMs(m), 3) },
    lines: [...lines, floorText],
    cpu: [m.cpu, floor.cpu],
  };
}
