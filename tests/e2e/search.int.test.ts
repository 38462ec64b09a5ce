import request from "supertest";
import type { Express } from "express";
import { RECIPIENT_SQL, searchStatement, type ListFilter } from "@herald/notifications";
import { FAILED_PER_MINUTE_SQL, SENT_PER_MINUTE_SQL } from "@herald/monitoring";
import { uuidv7Floor } from "@herald/db";
import { createTestEnv, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi } from "../support/system";

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe("GET /notifications: every search filter, with cursors", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv();
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
  });
  afterAll(() => env.cleanup());

  const ids = async (q: Record<string, string>) => {
    const res = await request(app).get("/notifications").query(q).set(AUTH);
    expect([res.status, res.body.error]).toEqual([200, null]);
    return (res.body.data as { request_id: string }[]).map((r) => r.request_id);
  };

  it("finds by idempotency key, correlation id, recipient (email in any case, phone), provider message id, template, user, status, channel and time", async () => {
    const grace = await createUser(app, { external_id: "grace-search", email: "Grace.Hopper@Example.com", phone: "+14155550177" });
    const other = await createUser(app, { external_id: "other-search" });
    const a = (await sendEmail(app, grace.id, { idempotency_key: "order-1-welcome" }, { "X-Correlation-ID": "corr-search-a" })).body.data.request_id as string;
    const b = (await sendEmail(app, grace.id, {}, { "X-Correlation-ID": "corr-search-b" })).body.data.request_id as string;
    const c = (await sendEmail(app, other.id)).body.data.request_id as string;
    await env.db.pool.query(`UPDATE deliveries SET status = 'sent', provider_message_id = 'pm-42', sent_at = now() WHERE request_id = $1`, [b]);

    expect(await ids({ idempotency_key: "order-1-welcome" })).toEqual([a]);
    expect(await ids({ correlation_id: "corr-search-b" })).toEqual([b]);
    expect(await ids({ recipient: "grace.hopper@example.COM" })).toEqual([b, a]);
    expect(await ids({ recipient: "Grace%@example.com" })).toEqual([]);
    expect(await ids({ recipient: "+14155550177" })).toEqual([b, a]);
    expect(await ids({ provider_message_id: "pm-42" })).toEqual([b]);
    expect(await ids({ template_id: "welcome_email" })).toEqual([c, b, a]);
    expect(await ids({ template_id: "welcome_email", user_id: "grace-search" })).toEqual([b, a]);
    expect(await ids({ status: "sent", channel: "email" })).toEqual([b]);
    expect(await ids({ status: "sent", recipient: "+14155550177" })).toEqual([b]);
    expect(await ids({ recipient: "nobody@example.com" })).toEqual([]);
    const created = (await env.db.prisma.notificationRequest.findUniqueOrThrow({ where: { id: b } })).createdAt;
    expect(await ids({ from: created.toISOString(), template_id: "welcome_email" })).toEqual([c, b]);
    expect(await ids({ to: created.toISOString(), template_id: "welcome_email" })).toEqual([a]);

    const first = await request(app).get("/notifications").query({ template_id: "welcome_email", limit: 2 }).set(AUTH);
    expect(first.body.data.map((r: { request_id: string }) => r.request_id)).toEqual([c, b]);
    const second = await request(app).get("/notifications").query({ template_id: "welcome_email", limit: 2, cursor: first.body.meta.next_cursor }).set(AUTH);
    expect([second.body.data.map((r: { request_id: string }) => r.request_id), second.body.meta.next_cursor]).toEqual([[a], undefined]);
  });

  it("refuses a recipient too short to search and an idempotency key with spaces", async () => {
    expect((await request(app).get("/notifications").query({ recipient: "a@" }).set(AUTH)).status).toBe(400);
    expect((await request(app).get("/notifications").query({ idempotency_key: "two words" }).set(AUTH)).status).toBe(400);
  });

  it("answers each filter with an index scan on a large table (EXPLAIN), and the overview's rates through the primary key", async () => {
    // Enough rows that without an index the planner would read the whole table.
    await env.db.pool.query(`
      INSERT INTO users (id, external_id, email, phone)
        SELECT gen_random_uuid(), 'bulk-' || i, 'bulk' || i || '@example.com', '+1415' || lpad(i::text, 7, '0') FROM generate_series(1, 20000) i;
      INSERT INTO notification_requests (id, user_id, user_ref, template_id, variables, idempotency_key, correlation_id, created_at)
        SELECT (lpad(to_hex((extract(epoch FROM now() - interval '3 days') * 1000)::bigint + i * 2), 12, '0') || '7000' || substr(md5(i::text), 1, 16))::uuid,
               (SELECT id FROM users WHERE external_id = 'bulk-' || (i % 20000 + 1)), 'bulk', 'tpl_' || (i % 500), '{}', 'key-' || i, 'corr-' || i,
               now() - interval '3 days' + i * interval '2 ms'
          FROM generate_series(1, 120000) i;
      -- Delivery ids are UUIDv7 too (time-ordered, like the platform's).
      INSERT INTO deliveries (id, request_id, channel, status, provider_message_id, sent_at, provider)
        SELECT (left(r.id::text, 24) || substr(md5('d' || n), 1, 12))::uuid, r.id, 'email', CASE WHEN n % 100 = 0 THEN 'dead_lettered' ELSE 'sent' END::"DeliveryStatus", 'pm-bulk-' || n, r.created_at, 'smtp'
          FROM (SELECT id, created_at, row_number() OVER () AS n FROM notification_requests WHERE user_ref = 'bulk') r;
      ANALYZE users; ANALYZE notification_requests; ANALYZE deliveries;`);

    const explain = async (sql: string, values: unknown[]) => {
      const { rows } = await env.db.pool.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, values);
      return nodes(rows[0]!["QUERY PLAN"][0]!.Plan);
    };
    const expectIndexed = async (what: string, sql: { text: string; values: unknown[] }, index: RegExp) => {
      const plan = await explain(sql.text, sql.values);
      const seqScans = plan.filter((n) => n["Node Type"] === "Seq Scan").map((n) => n["Relation Name"]);
      expect([what, seqScans]).toEqual([what, []]);
      expect([what, plan.some((n) => index.test(n["Index Name"] ?? ""))]).toEqual([what, true]);
    };
    const userId = (await env.db.pool.query<{ id: string }>(`SELECT id FROM users WHERE external_id = 'bulk-77'`)).rows[0]!.id;
    const page = { limit: 50 } as ListFilter;
    const cases: [string, ListFilter, string[] | undefined, RegExp][] = [
      ["idempotency_key", { ...page, idempotencyKey: "key-777" }, undefined, /notification_requests_idempotency_key_idx/],
      ["correlation_id", { ...page, correlationId: "corr-777" }, undefined, /notification_requests_correlation_id_idx/],
      ["template_id", { ...page, templateId: "tpl_7" }, undefined, /notification_requests_template_id_id_idx/],
      ["provider_message_id", { ...page, providerMessageId: "pm-bulk-777" }, undefined, /deliveries_provider_message_id_idx/],
      ["user_id", page, [userId], /notification_requests_user_id_id_idx/],
      ["from/to", { ...page, from: new Date(Date.now() - 3 * 86_400_000 + 60_000), to: new Date(Date.now() - 3 * 86_400_000 + 120_000) }, undefined, /notification_requests_pkey/],
      ["status", { ...page, status: "dead_lettered" }, undefined, /deliveries_rare_status_request_id_idx/],
      ["cursor", { ...page, before: uuidv7Floor(new Date(Date.now() - 86_400_000)) }, undefined, /notification_requests_pkey/],
    ];
    for (const [what, filter, users, index] of cases) await expectIndexed(what, searchStatement(filter, users), index);
    const recipientPlan = await explain(RECIPIENT_SQL, ["bulk777@example.com", "+14150000777"]);
    expect(recipientPlan.filter((n) => n["Node Type"] === "Seq Scan")).toEqual([]);
    expect(recipientPlan.map((n) => n["Index Name"])).toEqual(expect.arrayContaining(["users_email_trgm_idx", "users_phone_idx"]));

    // The overview's sends per minute read only the last hour of deliveries, through the primary key.
    const sentPlan = await explain(SENT_PER_MINUTE_SQL, [uuidv7Floor(new Date(Date.now() - 3_600_000))]);
    expect(sentPlan.filter((n) => n["Node Type"] === "Seq Scan")).toEqual([]);
    expect(sentPlan.some((n) => n["Index Name"] === "deliveries_pkey")).toBe(true);
    const failedPlan = await explain(FAILED_PER_MINUTE_SQL, []);
    expect(failedPlan.some((n) => n["Index Name"] === "delivery_attempts_pkey")).toBe(true);
  }, 120_000);
});
