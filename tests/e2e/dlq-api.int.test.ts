import request from "supertest";
import type { Express } from "express";
import { createTestEnv, FakeWebhook, TEST_TLS, waitFor, type TestEnv } from "@herald/testkit";
import { publishRaw } from "../support/broker";
import { AUTH, startApi } from "../support/system";
import { createHookTemplate, createHookUser, deliveryIn, sendTo, startWebhookWorker } from "../support/webhook";

interface Item {
  id: string;
  delivery_id: string | null;
  request_id: string | null;
  channel: string | null;
  error_code: string;
  created_at: string;
  replayed_at: string | null;
  replay_count: number;
}

describe("the dead-letter API: list, filter, paginate, inspect, delete", () => {
  let env: TestEnv;
  let app: Express;
  const receiver = new FakeWebhook();
  const slack = new FakeWebhook({ tls: true });
  const webhookRequests: string[] = [];

  const list = async (query: Record<string, string | number> = {}) => {
    const res = await request(app).get("/dlq").query(query).set(AUTH);
    expect(res.status).toBe(200);
    return res.body as { data: Item[]; meta: { next_cursor?: string } };
  };

  beforeAll(async () => {
    env = await createTestEnv({ WEBHOOK_BREAKER_FAILURE_THRESHOLD: "1000" });
    await receiver.start();
    await slack.start();
    ({ app } = await startApi(env));
    await startWebhookWorker(env, {}, { ca: TEST_TLS.cert });
    await createHookTemplate(app, "ping", "webhook", '{"ping": "{{n}}"}', ["n"]);
    await createHookTemplate(app, "ping", "slack", '{"text": "ping {{n}}"}', ["n"]);

    receiver.fail({ mode: "status", status: 404, body: "no such hook" });
    slack.fail({ mode: "status", status: 400, body: "invalid_payload" });
    const hookUser = await createHookUser(env, app, { webhook_url: receiver.url("/gone") });
    const slackUser = await createHookUser(env, app, { slack_webhook_url: slack.url("/services/T/B/x") });
    // One at a time, so that the dead letters' order is known.
    for (const n of [1, 2, 3]) {
      const id = await sendTo(app, hookUser.id, "webhook", "ping", { n });
      await deliveryIn(app, id, "dead_lettered");
      webhookRequests.push(id);
    }
    for (const n of [4, 5]) await deliveryIn(app, await sendTo(app, slackUser.id, "slack", "ping", { n }), "dead_lettered");
    await publishRaw(env.broker, "webhook.queue", "this is not JSON", { "x-correlation-id": "corr-garbage" });
    await waitFor(async () => (await env.db.prisma.deadLetter.count()) === 6, { what: "six dead letters" });
  });

  afterAll(async () => {
    await env.cleanup();
    await receiver.stop();
    await slack.stop();
  });

  it("is behind the API key", async () => {
    const res = await request(app).get("/dlq");
    expect(res.status).toBe(401);
  });

  it("lists every dead letter, newest first, with why and how often it failed", async () => {
    const { data, meta } = await list();
    expect(data).toHaveLength(6);
    expect(meta.next_cursor).toBeUndefined();
    expect(data.map((d) => d.error_code)).toEqual([
      "unparseable_message",
      "slack_invalid_payload",
      "slack_invalid_payload",
      "webhook_http_404",
      "webhook_http_404",
      "webhook_http_404",
    ]);
    expect(data.slice(3).map((d) => d.request_id)).toEqual([...webhookRequests].reverse());
    expect(data[5]).toEqual({
      id: expect.any(String),
      delivery_id: expect.any(String),
      request_id: webhookRequests[0],
      channel: "webhook",
      correlation_id: expect.any(String),
      error_code: "webhook_http_404",
      error: "answered HTTP 404: no such hook",
      attempts: 1,
      created_at: expect.any(String),
      replayed_at: null,
      replay_count: 0,
    });
    expect(data[0]).toMatchObject({ delivery_id: null, request_id: null, channel: null, error_code: "unparseable_message" });
  });

  it("filters by channel, error code, time and replay state", async () => {
    expect((await list({ channel: "slack" })).data.map((d) => d.channel)).toEqual(["slack", "slack"]);
    expect((await list({ error_code: "webhook_http_404" })).data.map((d) => d.request_id)).toEqual([...webhookRequests].reverse());
    expect((await list({ channel: "webhook", error_code: "slack_invalid_payload" })).data).toEqual([]);
    const all = (await list()).data;
    const middle = all[3]!.created_at;
    const newer = (await list({ from: middle })).data;
    const older = (await list({ to: middle })).data;
    expect(newer.length + older.length).toBe(6);
    expect(newer.every((d) => d.created_at >= middle)).toBe(true);
    expect(older.every((d) => d.created_at < middle)).toBe(true);
    expect((await list({ replayed: "false" })).data).toHaveLength(6);
    expect((await list({ replayed: "true" })).data).toHaveLength(0);
  });

  it("paginates with next_cursor, without repeats or gaps", async () => {
    const all = (await list()).data.map((d) => d.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await list({ limit: 4, ...(cursor ? { cursor } : {}) });
      expect(page.data.length).toBeLessThanOrEqual(4);
      seen.push(...page.data.map((d) => d.id));
      cursor = page.meta.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(2);
    expect(seen).toEqual(all);
  });

  it.each([
    [{ limit: 0 }, "limit"],
    [{ limit: 501 }, "limit"],
    [{ channel: "fax" }, "channel"],
    [{ from: "yesterday" }, "from"],
    [{ from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }, "to"],
    [{ cursor: "not-a-cursor" }, "cursor"],
    [{ colour: "blue" }, "(body)"],
  ])("refuses the query %j naming %s", async (query, field) => {
    const res = await request(app).get("/dlq").query(query).set(AUTH);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it("shows one dead letter with its original message, its delivery now and every failed attempt", async () => {
    const item = (await list({ channel: "webhook" })).data.at(-1)!;
    const res = await request(app).get(`/dlq/${item.id}`).set(AUTH);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: item.id,
      error_code: "webhook_http_404",
      message: {
        routing_key: "webhook",
        payload: { delivery_id: item.delivery_id, request_id: webhookRequests[0], channel: "webhook" },
        headers: { "x-request-id": webhookRequests[0], "x-delivery-id": item.delivery_id },
      },
      delivery: { status: "dead_lettered", attempts: 1, last_error_code: "webhook_http_404" },
      attempt_log: [{ attempt: 1, error_code: "webhook_http_404", error: "answered HTTP 404: no such hook", retryable: false, at: expect.any(String) }],
    });
  });

  it("shows a dead letter that names no delivery with its raw message", async () => {
    const item = (await list({ error_code: "unparseable_message" })).data[0]!;
    const res = await request(app).get(`/dlq/${item.id}`).set(AUTH);
    expect(res.body.data).toMatchObject({
      delivery_id: null,
      correlation_id: "corr-garbage",
      message: { payload: { raw: "this is not JSON" } },
      delivery: null,
      attempt_log: [],
    });
    const replay = await request(app).post(`/dlq/${item.id}/replay`).set(AUTH);
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe("not_replayable");
    expect(await env.db.prisma.outboxMessage.count()).toBe(0);
    expect((await request(app).get(`/dlq/${item.id}`).set(AUTH)).body.data).toMatchObject({ replayed_at: null, replay_count: 0 });
  });

  it.each(["0190a000-0000-7000-8000-000000000000", "nope"])("answers 404 for an unknown dead letter (%s)", async (id) => {
    for (const res of [
      await request(app).get(`/dlq/${id}`).set(AUTH),
      await request(app).post(`/dlq/${id}/replay`).set(AUTH),
      await request(app).delete(`/dlq/${id}`).set(AUTH),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });

  it("deletes a dead letter from PostgreSQL and touches nothing else", async () => {
    const item = (await list({ channel: "slack" })).data[0]!;
    const before = await env.db.prisma.delivery.findUniqueOrThrow({ where: { id: item.delivery_id! } });
    const res = await request(app).delete(`/dlq/${item.id}`).set(AUTH);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await request(app).get(`/dlq/${item.id}`).set(AUTH)).status).toBe(404);
    expect((await request(app).delete(`/dlq/${item.id}`).set(AUTH)).status).toBe(404);
    expect((await list()).data.map((d) => d.id)).not.toContain(item.id);
    expect(await env.db.prisma.deadLetter.count()).toBe(5);
    expect(await env.db.prisma.delivery.findUniqueOrThrow({ where: { id: item.delivery_id! } })).toEqual(before);
  });
});
