import request from "supertest";
import type { Express } from "express";
import { queueOf } from "@herald/channels";
import { createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import type { Gateway } from "../../apps/api-gateway/src/server";
import { drainQueue } from "../support/broker";
import { rowCounts } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, startApi } from "../support/system";

interface ItemResult {
  index: number;
  success: boolean;
  status_code: number;
  data?: { request_id: string; status: string; deliveries: { delivery_id: string }[] };
  error?: { code: string; message: string; details?: { field?: string }[] };
  replayed?: boolean;
}

const item = (userId: string, extra: Record<string, unknown> = {}) => ({
  user_id: userId,
  channel: "email",
  template_id: "welcome_email",
  variables: { name: "Ada" },
  ...extra,
});

describe("POST /notifications/send-bulk", () => {
  let env: TestEnv;
  let app: Express;
  let gateway: Gateway;
  const bulk = (body: unknown) => request(app).post("/notifications/send-bulk").set(AUTH).send(body as object);

  beforeAll(async () => {
    env = await createTestEnv({ RATE_LIMIT_PER_USER: "1000" });
    ({ app, gateway } = await startApi(env));
    await createWelcomeTemplate(app);
  });

  afterAll(() => env.cleanup());

  it("400 for a body that is not { notifications: [1..1000 items] }; nothing written", async () => {
    const user = await createUser(app);
    for (const body of [{}, { notifications: [] }, { notifications: "x" }, [item(user.id)], { notifications: [item(user.id)], extra: 1 }]) {
      const res = await bulk(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    const tooMany = await bulk({ notifications: Array.from({ length: 1001 }, () => item(user.id)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.details[0]).toMatchObject({ field: "notifications", message: "at most 1000 notifications per request" });
    const header = await request(app).post("/notifications/send-bulk").set(AUTH).set("Idempotency-Key", "k").send({ notifications: [item(user.id)] });
    expect(header.status).toBe(400);
    expect(header.body.error.details[0].field).toBe("Idempotency-Key");
    const text = await request(app).post("/notifications/send-bulk").set(AUTH).set("Content-Type", "text/plain").send("hello");
    expect(text.status).toBe(415);
    const huge = await bulk({ notifications: [item(user.id, { variables: { name: "x".repeat(5 * 1024 * 1024) } })] });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe("payload_too_large");
    expect(huge.body.message).toContain("4096 KB");
    expect(await rowCounts(env)).toEqual({ requests: 0, deliveries: 0, outbox: 0, keys: 0 });
  });

  it("answers every item in order with the code a single send would get; writes only the accepted ones", async () => {
    const user = await createUser(app);
    const noEmail = await createUser(app, { email: undefined, phone: "+14155550199" });
    const before = await rowCounts(env);
    const res = await bulk({
      notifications: [
        item(user.id),
        item(user.id, { channel: "pigeon" }),
        42,
        item("nobody-at-all"),
        item(user.id, { template_id: "no_such_template" }),
        item(user.id, { variables: {} }),
        item(user.id, { idempotency_key: "bulk-k1" }),
        item(user.id, { idempotency_key: "bulk-k1" }),
        item(user.id, { idempotency_key: "bulk-k1", variables: { name: "Bob" } }),
        item(noEmail.id),
        item(user.id, { send_at: new Date(Date.now() + 3_600_000).toISOString() }),
        item(user.id, { send_at: "yesterday" }),
      ],
    });
    expect(res.status).toBe(207);
    expect(res.body.meta).toMatchObject({ accepted: 4, rejected: 8 });
    const results = res.body.data as ItemResult[];
    expect(results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(results.map((r) => [r.status_code, r.success ? r.data!.status : r.error!.code])).toEqual([
      [202, "queued"],
      [400, "validation_failed"],
      [400, "validation_failed"],
      [422, "user_not_found"],
      [422, "template_not_found"],
      [422, "missing_variables"],
      [202, "queued"],
      [202, "queued"],
      [409, "conflict"],
      [422, "channel_not_available"],
      [202, "scheduled"],
      [400, "validation_failed"],
    ]);
    expect(results[1]!.error!.details![0]!.field).toBe("channel");
    expect(results[2]!.error!.details![0]!.field).toBe("(body)");
    expect(results[5]!.error!.details![0]!.field).toBe("variables.name");
    expect(results[11]!.error!.details![0]!.field).toBe("send_at");
    // The same key twice in one bulk: one request, the second item is the first one's answer.
    expect(results[7]!.replayed).toBe(true);
    expect(results[7]!.data!.request_id).toBe(results[6]!.data!.request_id);

    const after = await rowCounts(env);
    expect(after.requests - before.requests).toBe(3);
    expect(after.deliveries - before.deliveries).toBe(3);
    expect(after.keys - before.keys).toBe(1);
    const sources = await env.db.prisma.notificationRequest.findMany({ where: { userId: user.id }, select: { source: true } });
    expect(sources.every((s) => s.source === "bulk")).toBe(true);
    // Two queued deliveries were published; the scheduled one waits in PostgreSQL.
    await waitFor(async () => (await env.queueDepth(queueOf("email"))) === 2, { what: "two messages in email.queue" });
    await drainQueue(env.broker, queueOf("email"));

    // The whole bulk again: every accepted item is a replay or refused as before, nothing new is written.
    const again = await bulk({ notifications: [item(user.id, { idempotency_key: "bulk-k1" }), item(user.id, { idempotency_key: "bulk-k1", variables: { name: "Eve" } })] });
    expect((again.body.data as ItemResult[]).map((r) => r.status_code)).toEqual([202, 409]);
    expect(again.body.data[0].data.request_id).toBe(results[6]!.data!.request_id);
    expect((await rowCounts(env)).requests).toBe(after.requests);
  });

  it("writes 1000 items in a few transactions and publishes every queued one", async () => {
    const users = await Promise.all(Array.from({ length: 10 }, () => createUser(app)));
    const before = await rowCounts(env);
    const transactions = gateway.writer.stats.transactions;
    const notifications = Array.from({ length: 1000 }, (_, i) =>
      item(users[i % users.length]!.id, { variables: { name: `n${i}` }, ...(i % 2 === 0 ? { idempotency_key: `big-${i}` } : {}) }),
    );
    const res = await bulk({ notifications });
    expect(res.status).toBe(202);
    expect(res.body.meta).toMatchObject({ accepted: 1000, rejected: 0 });
    const results = res.body.data as ItemResult[];
    expect(results.map((r) => r.index)).toEqual(notifications.map((_, i) => i));
    expect(results.every((r) => r.success && r.status_code === 202)).toBe(true);
    expect(new Set(results.map((r) => r.data!.request_id)).size).toBe(1000);
    expect(gateway.writer.stats.transactions - transactions).toBeLessThanOrEqual(4);

    const after = await rowCounts(env);
    expect(after.requests - before.requests).toBe(1000);
    expect(after.deliveries - before.deliveries).toBe(1000);
    expect(after.keys - before.keys).toBe(500);
    await waitFor(async () => (await env.queueDepth(queueOf("email"))) === 1000, { what: "1000 messages in email.queue" });
    await waitFor(async () => (await env.db.prisma.outboxMessage.count()) === 0, { what: "the outbox to empty" });
    const ids = (await drainQueue(env.broker, queueOf("email"))).map((m) => (JSON.parse(m.content.toString()) as { request_id: string }).request_id);
    expect(new Set(ids)).toEqual(new Set(results.map((r) => r.data!.request_id)));
  });
});

describe("send-bulk and the per-user rate limit", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv({ RATE_LIMIT_PER_USER: "3" });
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
  });

  afterAll(() => env.cleanup());

  it("takes the user's budget item by item, in order: the items past it are 429", async () => {
    const user = await createUser(app);
    const other = await createUser(app);
    const res = await request(app)
      .post("/notifications/send-bulk")
      .set(AUTH)
      .send({ notifications: [item(user.id), item(user.id), item(other.id), item(user.id), item(user.id), item(user.id)] });
    expect(res.status).toBe(207);
    const results = res.body.data as ItemResult[];
    expect(results.map((r) => r.status_code)).toEqual([202, 202, 202, 202, 429, 429]);
    expect(results[4]!.error!.code).toBe("rate_limited");
    expect(results.filter((r) => r.success).map((r) => (r.data as unknown as { remaining_requests: number }).remaining_requests)).toEqual([2, 1, 2, 0]);
    expect(await env.db.prisma.notificationRequest.count({ where: { userId: user.id } })).toBe(3);
  });
});
