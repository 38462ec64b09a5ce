// npm run chaos: every fault drill as a bounded script against the whole system (started as
// `npm start` starts it, on its own ports, database and vhost), counted at the receiving end.
// `--short` runs the few drills marked short (CI), `--only=<drill>` one or several. Results go to
// chaos/results/ (markdown and JSON); the exit code is non-zero when any drill fails.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { ensureManagementPlugin, ensureServices, RabbitAdmin } from "@herald/devstack";
import type { DrillResult, RunSettings } from "./drill";
import { DRILLS } from "./drills";
import { runDrill, stageFailed } from "./harness";
import { parseOptions } from "./options";
import { table, toJson, toMarkdown, type RunReport } from "./report";
import { closeStage, openStage, type Stage } from "./stage";
import { ensureTemplate, ROOT, serviceUrls } from "./world";

const quiet = { info: () => undefined, warn: (m: string, meta?: unknown) => process.stderr.write(`chaos: ${m} ${JSON.stringify(meta ?? {})}\n`) };

function machine(): Record<string, string> {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? "?"} x ${cpus.length}`,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    load: `load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")} at the start`,
  };
}

/** Whatever a drill of this run left behind (a crash between its start and its cleanup). */
async function sweep(run: string): Promise<void> {
  const urls = serviceUrls();
  const prefix = `herald_chaos_${run}_`;
  const client = new pg.Client({ connectionString: urls.postgres });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
  const admin = new RabbitAdmin(urls.management);
  for (const vhost of await admin.listVhosts()) if (vhost.startsWith(prefix)) await admin.deleteVhost(vhost);
}

/** chaos/results/<time>-<form>.md and .json, and latest-<form>.md (not for a partial run with --only). */
function writeResults(report: RunReport, only: boolean): string {
  const dir = path.join(ROOT, "chaos", "results");
  fs.mkdirSync(dir, { recursive: true });
  const stamp = report.at.toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const md = toMarkdown(report);
  const name = `${stamp}-${report.form}${only ? "-only" : ""}`;
  fs.writeFileSync(path.join(dir, `${name}.md`), md);
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(toJson(report), null, 2)}\n`);
  if (!only) fs.writeFileSync(path.join(dir, `latest-${report.form}.md`), md);
  return `chaos/results/${name}.md`;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2), DRILLS.map((d) => d.name));
  const drills = options.only ? DRILLS.filter((d) => options.only!.includes(d.name)) : DRILLS.filter((d) => !options.short || d.short);
  const settings: RunSettings = { short: options.short, services: options.services };
  const run = randomBytes(3).toString("hex");
  const at = new Date();
  const logDir = path.join(ROOT, "chaos", "results", "logs", `${at.toISOString().replace(/[:.]/g, "-").slice(0, 19)}-${run}`);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (signal: string) => {
    signals += 1;
    if (signals === 1) process.stderr.write(`\nchaos: ${signal}: stopping the drill, cleaning up (its processes, database, vhost; any service it took away comes back first)...\n`);
    else process.stderr.write("chaos: still cleaning up; a service a drill stopped is being brought back\n");
    stop.abort(signal);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));

  if (options.services === "real") {
    process.stdout.write("chaos: --services=real: the drills STOP AND START the local PostgreSQL, Redis and RabbitMQ. Nobody else may be using them.\n");
  }
  const urls = serviceUrls();
  await ensureServices({ databaseUrl: urls.postgres, redisUrl: urls.redis, rabbitmqUrl: urls.rabbitmq }, quiet);
  if (!(await ensureManagementPlugin(urls.management, quiet))) throw new Error("the RabbitMQ management API is needed (one vhost per drill)");
  const template = await ensureTemplate();
  process.stdout.write(`chaos: ${drills.length} drills (${options.short ? "short" : "full"} form, service faults via ${options.services}), run ${run}, logs in ${path.relative(ROOT, logDir)}\n`);

  const results: DrillResult[] = [];
  const report = (result: DrillResult) => {
    results.push(result);
    const t = result.tally;
    const counts = t ? `accepted ${t.accepted}, delivered ${t.delivered}, twice ${t.twice} (allowed ${t.twiceAllowed}), lost ${t.lost}, stuck ${t.stuck}` : (result.error ?? "").split("\n")[0];
    process.stdout.write(`chaos: ${result.name}: ${result.verdict} in ${result.durationS} s (${counts})${result.failures.length ? `: ${result.failures.join("; ")}` : ""}\n`);
  };
  // The full form: a system of its own for every drill. The short form: one for its few drills.
  const stages = options.short ? [{ name: "short", drills }] : drills.map((d) => ({ name: d.name, drills: [d] }));
  try {
    for (const { name, drills: group } of stages) {
      if (stop.signal.aborted) break;
      let stage: Stage;
      try {
        stage = await openStage(name, group, settings, run, template, logDir);
      } catch (error) {
        for (const drill of group) report(stageFailed(drill, { overrides: {}, logFile: path.join(logDir, `${name}.log`) }, settings, error));
        continue;
      }
      process.stdout.write(`chaos: system up for ${group.map((d) => d.name).join(", ")} in ${stage.startS.toFixed(0)} s\n`);
      try {
        for (const drill of group) {
          if (stop.signal.aborted) break;
          process.stdout.write(`chaos: ${drill.name}: ${drill.summary}\n`);
          report(await runDrill(drill, stage, settings, run, stop.signal));
        }
      } finally {
        const problems = await closeStage(stage);
        for (const p of problems) process.stderr.write(`chaos: ${name}: ${p}\n`);
        results.at(-1)?.notes.push(...problems.map((p) => `cleanup: ${p}`));
      }
    }
  } finally {
    await sweep(run).catch((error: unknown) => process.stderr.write(`chaos: sweeping run ${run}: ${String(error)}\n`));
  }
  if (stop.signal.aborted) {
    process.stderr.write("chaos: interrupted; nothing written to chaos/results\n");
    return 130;
  }
  const runReport: RunReport = { at, form: options.short ? "short" : "full", services: options.services, machine: machine(), durationS: (Date.now() - at.getTime()) / 1000, drills: results };
  const written = writeResults(runReport, options.only !== undefined);
  process.stdout.write(`\n${table(results)}\n\nchaos: written to ${written}\n`);
  return results.every((r) => r.verdict === "pass") ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
