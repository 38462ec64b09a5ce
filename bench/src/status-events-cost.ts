/**
 * What the status-event CTE costs a worker's "sent" record when no endpoint subscribes:
 * `npx tsx bench/src/status-events-cost.ts`. In its own database, 20,000 deliveries are marked
 * sent in batches of 50 (as the worker's batcher does) with the statement as it was and with the
 * CTE that writes status events, in alternating rounds; prints the PostgreSQL time per 1,000
 * deliveries for each, with no endpoint, and with one endpoint that wants only delivery.failed.
 */
import { processEnv } from "@herald/config";
import { dropDatabase, ensureDatabase, migrate } from "@herald/devstack";
import { eventSourceColumns, statusEventsInsert } from "@herald/status-webhooks";
import pg from "pg";
import { ROOT } from "./processes";

const DELIVERIES = 20_000;
const BATCH = 50;
const ROUNDS = 7;

const SET = `status = 'sent', sent_at = now(), provider_message_id = v.provider_message_id, next_attempt_at = NULL,
             outcome = COALESCE(v.outcome, d.outcome), updated_at = now()
        FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, attempts int, provider_message_id text, outcome jsonb)
       WHERE d.id = v.id AND d.status = 'processing' AND d.attempts = v.attempts`;
const PLAIN = `UPDATE deliveries d SET ${SET} RETURNING d.id`;
const WITH_EVENTS = `WITH moved AS (UPDATE deliveries d SET ${SET} RETURNING ${eventSourceColumns("d")}),
     status_events AS (${statusEventsInsert("moved")})
     SELECT id FROM moved`;

async function main(): Promise<void> {
  const base = new URL(processEnv().DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/notifications");
  base.pathname = "/herald_bench_events";
  const url = base.toString();
  await dropDatabase(url);
  await ensureDatabase(url);
  await migrate(url, ROOT, processEnv());
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO notification_requests (id, user_id, user_ref, variables, correlation_id)
                        SELECT gen_random_uuid(), gen_random_uuid(), 'bench', '{}', 'bench' FROM generate_series(1, $1)`, [DELIVERIES]);
    await client.query(`INSERT INTO deliveries (id, request_id, channel, status, attempts, updated_at)
                        SELECT gen_random_uuid(), id, 'email', 'processing', 1, now() FROM notification_requests`);
    const { rows } = await client.query<{ id: string }>("SELECT id FROM deliveries ORDER BY id");
    const batches: string[] = [];
    for (let i = 0; i < rows.length; i += BATCH) {
      batches.push(JSON.stringify(rows.slice(i, i + BATCH).map((r) => ({ id: r.id, attempts: 1, provider_message_id: "m", outcome: null }))));
    }
    const run = async (sql: string, name?: string): Promise<number> => {
      await client.query("UPDATE deliveries SET status = 'processing'");
      await client.query("VACUUM ANALYZE deliveries");
      const started = process.hrtime.bigint();
      for (const batch of batches) await client.query(name ? { name, text: sql, values: [batch] } : { text: sql, values: [batch] });
      return Number(process.hrtime.bigint() - started) / 1e6 / (DELIVERIES / 1000);
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const setting of ["no endpoint", "one endpoint wanting only delivery.failed"]) {
      if (setting !== "no endpoint") {
        await client.query(`INSERT INTO webhook_endpoints (id, url, events, secret) VALUES (gen_random_uuid(), 'http://127.0.0.1:9/x', '{delivery.failed}', 'whsec_x')`);
      }
      const plain: number[] = [];
      const events: number[] = [];
      const plainPrepared: number[] = [];
      const eventsPrepared: number[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        plain.push(await run(PLAIN));
        events.push(await run(WITH_EVENTS));
        plainPrepared.push(await run(PLAIN, `plain${setting.length}`));
        eventsPrepared.push(await run(WITH_EVENTS, `events${setting.length}`));
      }
      // Planning and execution as PostgreSQL reports them (EXPLAIN ANALYZE of one batch, rolled back), median of 200.
      const explain = async (sql: string) => {
        const planning: number[] = [];
        const execution: number[] = [];
        await client.query("UPDATE deliveries SET status = 'processing'");
        for (let i = 0; i < 200; i += 1) {
          await client.query("BEGIN");
          const { rows: plan } = await client.query<{ "QUERY PLAN": [{ "Planning Time": number; "Execution Time": number }] }>(
            `EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) ${sql}`,
            [batches[i % batches.length]],
          );
          await client.query("ROLLBACK");
          planning.push(plan[0]!["QUERY PLAN"][0]["Planning Time"]);
          execution.push(plan[0]!["QUERY PLAN"][0]["Execution Time"]);
        }
        return `planning ${median(planning).toFixed(3)} ms, execution ${median(execution).toFixed(3)} ms per batch of ${BATCH}`;
      };
      console.log(`  EXPLAIN ANALYZE: as before ${await explain(PLAIN)}; with the CTE ${await explain(WITH_EVENTS)}`);
      console.log(`  prepared statements: as before ${median(plainPrepared).toFixed(1)}, with the CTE ${median(eventsPrepared).toFixed(1)}`);
      const written = (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_events")).rows[0]!.n;
      console.log(
        `${setting}: ms per 1,000 deliveries marked sent (batches of ${BATCH}, median of ${ROUNDS}): ` +
          `as before ${median(plain).toFixed(1)}, with the status-event CTE ${median(events).toFixed(1)} ` +
          `(rounds: ${plain.map((x) => x.toFixed(1)).join(" ")} | ${events.map((x) => x.toFixed(1)).join(" ")}); events written: ${written}`,
      );
    }
  } finally {
    await client.end();
    await dropDatabase(url);
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
