// gateway: POST /notifications/send through the gateway against a trivial Express handler
// answering 202, in alternating rounds (this machine's speed swings within minutes, so each
// round's ratio compares two neighbouring windows); the median round is the headline.
import type { Bench } from "../context";
import { cpuOf, measureCpu, type CpuUsage } from "../cpu";
import { load, withLoopUtilization, writerFigures, type LoadResult } from "../gateway-bench";
import { freePort, stop } from "../processes";
import { fmt, num, type PhaseResult } from "../report";

export const LOAD_GENERATOR = "load generator (bench)";

/** CPU of everything but the load generator: the gateway (or trivial handler) and the services. */
export const serverCpu = (cpu: CpuUsage | undefined) => cpuOf(cpu, (name) => name !== LOAD_GENERATOR);

interface Round {
  trivial: LoadResult;
  full: LoadResult;
  rateRatio: number;
  /** Pipeline CPU per accepted send / the trivial handler's own CPU per request. */
  cpuRatio: number;
  cpu: { trivial: CpuUsage | undefined; full: CpuUsage | undefined };
  gatewayLoop: number;
}

/** One closed-loop window against a server, with the CPU of it, the services and the load generator. */
export async function measuredLoad(name: string, url: string, pid: number | undefined, userIds: string[], seconds: number, connections: number) {
  return measureCpu({ [name]: pid, [LOAD_GENERATOR]: process.pid }, () => load(url, userIds, { durationS: seconds }, connections));
}

/** A first pass over every user (profiles read and cached), then warm-up seconds. */
export async function warmUp(url: string, userIds: string[], seconds: number, connections: number): Promise<LoadResult> {
  const firstPass = await load(url, userIds, { amount: userIds.length }, connections);
  await load(url, userIds, { durationS: seconds }, connections);
  return firstPass;
}

export async function gatewayPhase(bench: Bench): Promise<PhaseResult> {
  const { sizes, env } = bench;
  const gateway = await bench.gateway();
  const port = await freePort();
  const trivialServer = await bench.fork("trivial-server", [String(port)]);
  const trivial = { name: "trivial handler", url: `http://127.0.0.1:${port}`, pid: trivialServer.pid };
  bench.log("gateway: first pass and warm-up of the trivial Express handler and the gateway...");
  const firstPass = {
    trivial: await warmUp(trivial.url, env.userIds, sizes.warmupSeconds, sizes.connections),
    full: await warmUp(gateway.url, env.userIds, sizes.warmupSeconds, sizes.connections),
  };
  bench.log(`gateway: ${sizes.rounds} rounds of ${sizes.gatewaySeconds} s each, trivial handler then POST /notifications/send...`);
  const rounds: Round[] = [];
  for (let i = 0; i < sizes.rounds; i += 1) {
    const t = await measuredLoad(trivial.name, trivial.url, trivial.pid, env.userIds, sizes.gatewaySeconds, sizes.connections);
    const { result: g, loop } = await withLoopUtilization(gateway.url, () =>
      measuredLoad("gateway", gateway.url, gateway.pid, env.userIds, sizes.gatewaySeconds, sizes.connections),
    );
    const trivialPerRequest = cpuOf(t.cpu, (n) => n === trivial.name) / t.result.accepted;
    const pipelinePerSend = serverCpu(g.cpu) / g.result.accepted;
    rounds.push({
      trivial: t.result,
      full: g.result,
      // Same window length on both sides: accepted sends against answered requests.
      rateRatio: g.result.accepted / t.result.accepted,
      cpuRatio: pipelinePerSend / trivialPerRequest,
      cpu: { trivial: t.cpu, full: g.cpu },
      gatewayLoop: loop,
    });
    bench.log(
      `gateway: round ${i + 1}: trivial ${fmt(t.result.requestsPerSecond)}/s, gateway ${fmt(g.result.requestsPerSecond)}/s (p99 ${g.result.p99Ms} ms); ` +
        `rate ${fmt(rounds[i]!.rateRatio, 2)}x, CPU per unit ${fmt(rounds[i]!.cpuRatio, 2)}x`,
    );
  }
  await stop(trivialServer);
  const median = [...rounds].sort((a, b) => a.rateRatio - b.rateRatio)[Math.floor(rounds.length / 2)]!;
  const cpuMedian = [...rounds].sort((a, b) => a.cpuRatio - b.cpuRatio)[Math.floor(rounds.length / 2)]!.cpuRatio;
  const writes = await writerFigures(gateway.url);
  return {
    headline: { gateway_cpu_ratio: num(cpuMedian), gateway_rate_ratio: num(median.rateRatio), gateway_p99_ms: num(median.full.p99Ms, 1) },
    details: {
      connections: sizes.connections,
      gateway_processes: sizes.gatewayProcesses,
      rounds: rounds.map((r) => ({ trivial: r.trivial, gateway: r.full, rate_ratio: num(r.rateRatio), cpu_ratio: num(r.cpuRatio), gateway_event_loop_busy: num(r.gatewayLoop) })),
      first_pass: firstPass,
      writes,
    },
    lines: [
      `autocannon, ${sizes.connections} connections, each request to the next of ${fmt(env.userIds.length)} users; a first pass over them and ${sizes.warmupSeconds} s of warm-up on each server, ` +
        `then ${sizes.rounds} rounds of ${sizes.gatewaySeconds} s: the trivial handler, then the gateway (GATEWAY_PROCESSES=${sizes.gatewayProcesses}).`,
      "| round | trivial handler req/s, p50/p99 ms | gateway accepted/s, p50/p99 ms | event loop busy | non-2xx / errors | rate ratio | CPU ratio |\n|---|---:|---:|---:|---:|---:|---:|\n" +
        rounds
          .map(
            (r, i) =>
              `| ${i + 1}${r === median ? " (median)" : ""} | ${fmt(r.trivial.requestsPerSecond)}, ${r.trivial.p50Ms}/${r.trivial.p99Ms} | ` +
              `${fmt(r.full.requestsPerSecond)}, ${r.full.p50Ms}/${r.full.p99Ms} | ${fmt(100 * r.gatewayLoop)}% | ${r.full.non2xx} / ${r.full.errors} | ${fmt(r.rateRatio, 2)}x | ${fmt(r.cpuRatio, 2)}x |`,
          )
          .join("\n"),
      `CPU ratio: CPU per accepted send of the gateway, PostgreSQL, RabbitMQ and Redis / the trivial handler's CPU per request: **${fmt(cpuMedian, 2)}x** (median round). ` +
        `Rate: **${fmt(median.rateRatio, 2)}x**, p99 ${median.full.p99Ms} ms. ${fmt(writes.sendsPerWrite, 1)} sends per accept write of ${fmt(writes.meanWriteMs, 1)} ms.`,
      `First pass (profiles not yet cached): gateway ${fmt(firstPass.full.requestsPerSecond)}/s, p99 ${firstPass.full.p99Ms} ms; trivial handler ${fmt(firstPass.trivial.requestsPerSecond)}/s.`,
    ],
    cpu: [
      { label: "Trivial handler, median round", units: median.trivial.accepted, unit: "request", cpu: median.cpu.trivial },
      { label: "Gateway, median round", units: median.full.accepted, unit: "accepted send", cpu: median.cpu.full },
    ],
  };
}
