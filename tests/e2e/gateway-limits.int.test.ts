import type { Express } from "express";
import { TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { createUser, createWelcomeTemplate, sendEmail, startApi } from "../support/system";

describe("per-user rate limit", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv({ RATE_LIMIT_PER_USER: "5", RATE_LIMIT_WINDOW: "60s" });
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
  });

  afterAll(() => env.cleanup());

  it("lets exactly the limit through under concurrency, then 429 with Retry-After and RateLimit headers", async () => {
    const user = await createUser(app);
    const results = await Promise.all(Array.from({ length: 20 }, () => sendEmail(app, user.id)));
    const accepted = results.filter((r) => r.status === 202);
    const limited = results.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(5);
    expect(limited).toHaveLength(15);
    expect(accepted.map((r) => r.body.data.remaining_requests).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const r of accepted) expect(r.headers["ratelimit-limit"]).toBe("5");
    const one = limited[0]!;
    expect(one.body.error.code).toBe("rate_limited");
    expect(Number(one.headers["retry-after"])).toBeGreaterThan(0);
    expect(Number(one.headers["retry-after"])).toBeLessThanOrEqual(60);
    expect(one.headers["ratelimit-remaining"]).toBe("0");
    expect(one.headers["ratelimit-limit"]).toBe("5");
    expect(Number(one.headers["ratelimit-reset"])).toBeGreaterThan(0);
    expect(await env.db.prisma.notificationRequest.count({ where: { userId: user.id } })).toBe(5);

    // Another user has a budget of their own; the same user by external_id shares the budget.
    const other = await createUser(app, { external_id: "ext-limit" });
    expect((await sendEmail(app, other.id)).status).toBe(202);
    expect((await sendEmail(app, "ext-limit")).status).toBe(202);
    expect((await sendEmail(app, "ext-limit")).body.data.remaining_requests).toBe(2);
  });
});

describe("the rate budget is spent only by what is accepted", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv({ RATE_LIMIT_PER_USER: "5", RATE_LIMIT_WINDOW: "60s" });
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
  });

  afterAll(() => env.cleanup());

  it("100 sends refused with 4xx (unknown template, missing variables) leave the budget whole: the next valid send is 202", async () => {
    const user = await createUser(app);
    const refused = [];
    for (let i = 0; i < 10; i += 1) {
      refused.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => (i + j) % 2 === 0 ? sendEmail(app, user.id, { template_id: "no_such_template" }) : sendEmail(app, user.id, { variables: {} })))));
    }
    expect(refused.map((r) => r.status)).toEqual(Array(100).fill(422));
    const valid = await sendEmail(app, user.id);
    expect(valid.status).toBe(202);
    expect(valid.body.data.remaining_requests).toBe(4);
  });

  it("idempotent replays give their point back: concurrent copies of one send spend one point", async () => {
    const user = await createUser(app);
    // Each copy holds a point until its write finds the key taken, so at most the budget run at once.
    const copies = await Promise.all(Array.from({ length: 4 }, () => sendEmail(app, user.id, { idempotency_key: "budget-1" })));
    expect(copies.every((r) => r.status === 202)).toBe(true);
    expect(new Set(copies.map((r) => r.body.data.request_id)).size).toBe(1);
    const next = await sendEmail(app, user.id);
    expect(next.body.data.remaining_requests).toBe(3);
    // The limit itself still holds: 3 more are accepted, then 429.
    const rest = await Promise.all(Array.from({ length: 5 }, () => sendEmail(app, user.id)));
    expect(rest.map((r) => r.status).sort()).toEqual([202, 202, 202, 429, 429]);
  });
});

describe("idempotency", () => {
  let env: TestEnv;
  let app: Express;
  let userId: string;

  beforeAll(async () => {
    env = await createTestEnv({ API_KEYS: `${TEST_API_KEY},second-key-abcdef` });
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
    userId = (await createUser(app)).id;
  });

  afterAll(() => env.cleanup());

  it("the same key and body returns the first answer and sends nothing again", async () => {
    const first = await sendEmail(app, userId, { idempotency_key: "order-1" });
    const again = await sendEmail(app, userId, { idempotency_key: "order-1" });
    const byHeader = await sendEmail(app, userId, {}, { "Idempotency-Key": "order-1" });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body.data).toEqual(first.body.data);
    expect(byHeader.body.data.request_id).toBe(first.body.data.request_id);
    expect(await env.db.prisma.notificationRequest.count({ where: { idempotencyKey: "order-1" } })).toBe(1);
  });

  it("the same key with another body is 409", async () => {
    await sendEmail(app, userId, { idempotency_key: "order-2" });
    const other = await sendEmail(app, userId, { idempotency_key: "order-2", variables: { name: "Someone else" } });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("conflict");
  });

  it("twenty concurrent identical requests create one notification", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => sendEmail(app, userId, { idempotency_key: "race-1" })));
    expect(results.every((r) => r.status === 202)).toBe(true);
    expect(new Set(results.map((r) => r.body.data.request_id)).size).toBe(1);
    expect(await env.db.prisma.notificationRequest.count({ where: { idempotencyKey: "race-1" } })).toBe(1);
    expect(await env.db.prisma.delivery.count({ where: { requestId: results[0]!.body.data.request_id } })).toBe(1);
  });

  it("concurrent requests with one key and different bodies: one is accepted, the others are 409", async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => sendEmail(app, userId, { idempotency_key: "race-2", variables: { name: `n${i}` } })),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await env.db.prisma.notificationRequest.count({ where: { idempotencyKey: "race-2" } })).toBe(1);
  });

  it("an expired key can be used again", async () => {
    const first = await sendEmail(app, userId, { idempotency_key: "order-3" });
    await env.db.pool.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'order-3'");
    await env.redis.del(`idempotency:${(await env.db.prisma.idempotencyKey.findFirstOrThrow({ where: { key: "order-3" } })).scope}:order-3`);
    const second = await sendEmail(app, userId, { idempotency_key: "order-3" });
    expect(second.status).toBe(202);
    expect(second.body.data.request_id).not.toBe(first.body.data.request_id);
  });

  it("each API key has its own key space", async () => {
    const first = await sendEmail(app, userId, { idempotency_key: "shared-key" });
    const second = await sendEmail(app, userId, { idempotency_key: "shared-key" }, { "X-API-Key": "second-key-abcdef" });
    expect(second.status).toBe(202);
    expect(second.body.data.request_id).not.toBe(first.body.data.request_id);
  });
});
