import { createTestEnv, type TestEnv } from "@herald/testkit";
import { CLAIM_SQL, MARK_SENT_SQL } from "./repository";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/**
 * The claim and the "sent" run once per batch of mails, as prepared statements: PostgreSQL keeps
 * one generic plan for them, made without the batch's size. On a table of a few thousand
 * deliveries (a small installation, a fresh one) that plan must still walk the primary key: a
 * batch of three that reads all of deliveries costs milliseconds per mail, and at a moderate
 * steady rate that was most of PostgreSQL's CPU.
 */
describe("the worker's batch statements on a small deliveries table (generic plans)", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv();
    await env.db.pool.query(`
      INSERT INTO notification_requests (id, user_id, user_ref, template_id, variables, correlation_id)
        SELECT gen_random_uuid(), gen_random_uuid(), 'plan', 'welcome_email', '{}', 'corr-' || i FROM generate_series(1, 8000) i;
      INSERT INTO deliveries (id, request_id, channel, status, attempts)
        SELECT gen_random_uuid(), id, 'email', CASE WHEN random() < 0.05 THEN 'queued' ELSE 'sent' END::"DeliveryStatus", 0
          FROM notification_requests WHERE user_ref = 'plan';
      ANALYZE deliveries; ANALYZE notification_requests;`);
  });
  afterAll(() => env.cleanup());

  const genericPlan = async (sql: string, types: string, args: string): Promise<PlanNode[]> => {
    const client = await env.db.pool.connect();
    try {
      await client.query("SET plan_cache_mode = force_generic_plan");
      await client.query(`PREPARE plan_check(${types}) AS ${sql}`);
      await client.query("BEGIN");
      const { rows } = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) EXECUTE plan_check(${args})`);
      return nodes(rows[0]!["QUERY PLAN"][0]!.Plan);
    } finally {
      await client.query("ROLLBACK");
      await client.query("DEALLOCATE ALL; RESET plan_cache_mode");
      client.release();
    }
  };
  const scanned = (plan: PlanNode[]) => ({
    seqScans: plan.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Relation Name"]),
    pkey: plan.some((n) => n["Index Name"] === "deliveries_pkey"),
  });
  const ids = async (status: string) =>
    (await env.db.pool.query<{ id: string }>(`SELECT id FROM deliveries WHERE status = $1 LIMIT 3`, [status])).rows.map((r) => `'${r.id}'`).join(",");

  it("claims through the primary key", async () => {
    const queued = await ids("queued");
    const plan = await genericPlan(
      CLAIM_SQL,
      `uuid[], "DeliveryStatus"[], int[], text[], uuid`,
      `ARRAY[${queued}]::uuid[], ARRAY['queued','queued','queued']::"DeliveryStatus"[], ARRAY[0,0,0], ARRAY['p','p','p'], gen_random_uuid()`,
    );
    expect(scanned(plan)).toEqual({ seqScans: [], pkey: true });
  });

  it("records sent through the primary key", async () => {
    await env.db.pool.query(`UPDATE deliveries SET status = 'processing', attempts = 1 WHERE id IN (SELECT id FROM deliveries WHERE status = 'queued' LIMIT 200)`);
    await env.db.pool.query("ANALYZE deliveries");
    const processing = await ids("processing");
    const plan = await genericPlan(MARK_SENT_SQL, "uuid[], int[], text[], jsonb[]", `ARRAY[${processing}]::uuid[], ARRAY[1,1,1], ARRAY['a','b','c'], ARRAY[NULL,NULL,NULL]::jsonb[]`);
    expect(scanned(plan).seqScans.filter((r) => r === "deliveries")).toEqual([]);
  });
});
