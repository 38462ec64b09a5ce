// npm run bench [-- --only=<phase>[,<phase>] --quick --profile --<size>=<n>]: the phases of
// bench/src/phases (gateway, email, steady, million, burst, workers, retention), each in its own
// file, all in this run's own database, vhost and key prefix on this machine. The headline (CPU
// ratios, rates beside them) and every phase's details go to bench/results/ (report.ts). Whatever
// happens, every process the run started is stopped and its database and vhost are dropped.
import { Bench } from "./context";
import { measureCpu, machineLoad, setBenchDatabase } from "./cpu";
import { dropEnvironment, machineNotes, prepare } from "./environment";
import { parseOptions } from "./options";
import { PHASE_RUNNERS } from "./phases";
import { EMPTY_HEADLINE, fmt, num, writeResults, type Headline, type PhaseResult, type Results } from "./report";
import { heraldMax, RssSampler } from "./rss";

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const name = `herald_bench_${process.pid}`;
  setBenchDatabase(name);
  const machine = machineNotes();
  // What the shared services and the machine do while the bench does nothing (other users of them).
  const idle = await measureCpu({}, () => new Promise((r) => setTimeout(r, 3000)));
  machine.idle_window = "3 s";
  machine.background = idle.cpu
    ? `${Object.entries(idle.cpu.components)
        .map(([k, s]) => `${k} ${fmt(s / idle.cpu!.seconds, 2)} cores`)
        .join(", ")}; machine ${machineLoad(idle.cpu)}`
    : "not measured";
  process.stdout.write(`bench: ${options.quick ? "--quick, " : ""}phases ${options.phases.join(", ")}; preparing ${name} (database, vhost, ${options.sizes.users} users)...\n`);
  const rss = new RssSampler(name);
  let bench: Bench | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      rss.stop();
      await bench?.close();
      await bench?.env.db.close().catch(() => undefined);
      await dropEnvironment(name);
    })());
  const stopSignals = () => {
    process.stderr.write("bench: interrupted, cleaning up...\n");
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", stopSignals);
  process.once("SIGTERM", stopSignals);
  try {
    const run = new Bench(options, await prepare(options.sizes.users, name), rss);
    bench = run;
    rss.watch("bench (load generator)", process.pid);
    rss.start();
    await run.startSink();
    const phases: Results["phases"] = {};
    const failed: string[] = [];
    const { cpu: whole } = await measureCpu({}, async () => {
      for (const phase of options.phases) {
        const from = Date.now();
        // A phase that fails is written down as failed and the others still run (a full run is long).
        const result: PhaseResult = await PHASE_RUNNERS[phase](run).catch((error: unknown) => {
          failed.push(phase);
          const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
          process.stderr.write(`bench: phase ${phase} failed: ${text}\n`);
          return { headline: {}, details: { error: text }, lines: [`**Failed:** ${text.split("\n")[0]}`], cpu: [] };
        });
        // What a failed phase left running must not weigh on the next one.
        await run.stopWorkers();
        result.seconds = (Date.now() - from) / 1000;
        result.rssMb = Object.fromEntries(Object.entries(rss.maxBetween(from)).map(([k, v]) => [k, Number(v.toFixed(1))]));
        phases[phase] = result;
      }
    });
    machine.load = machineLoad(whole);
    const headline: Headline = { ...EMPTY_HEADLINE };
    for (const phase of Object.values(phases)) Object.assign(headline, phase.headline);
    headline.max_rss_mb = num(heraldMax(rss.maxBetween(started)), 1);
    const results: Results = { at: new Date(), options, machine, headline, phases, seconds: (Date.now() - started) / 1000 };
    const written = writeResults(results);
    process.stdout.write(`\nbench: headline ${JSON.stringify(headline)}\nbench: ${fmt(results.seconds / 60, 1)} minutes; written to ${written}\n`);
    if (failed.length > 0) throw new Error(`phases failed: ${failed.join(", ")} (the others' results are written)`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
