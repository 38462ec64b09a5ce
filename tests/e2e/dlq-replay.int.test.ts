import request from "supertest";
import type { Express } from "express";
import { createTestEnv, FakeSmtp, FakeWebhook, sleep, TEST_TLS, verifyWebhookSignature, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi, startEmailWorker, statusOf } from "../support/system";
import { createHookTemplate, createHookUser, deliveryIn, sendTo, startWebhookWorker } from "../support/webhook";

const RATE = 2;

describe("replaying dead letters", () => {
  let env: TestEnv;
  let app: Express;
  const receiver = new FakeWebhook();
  const slack = new FakeWebhook({ tls: true });
  const smtp = new FakeSmtp();

  const deadLetterOf = async (requestId: string) => {
    const rows = await env.db.prisma.deadLetter.findMany({ where: { requestId }, orderBy: { id: "asc" } });
    return rows.at(-1)!;
  };
  const replay = (id: string, headers: Record<string, string> = {}) => request(app).post(`/dlq/${id}/replay`).set({ ...AUTH, ...headers });
  const bulk = (body: Record<string, unknown>) => request(app).post("/dlq/replay").set(AUTH).send(body);
  const at = (path: string) => receiver.requests.filter((r) => r.path === path);

  beforeAll(async () => {
    env = await createTestEnv({ WEBHOOK_BREAKER_FAILURE_THRESHOLD: "1000", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", DLQ_REPLAY_RATE: String(RATE) });
    await receiver.start();
    await slack.start();
    await smtp.start();
    ({ app } = await startApi(env));
    await startWebhookWorker(env, {}, { ca: TEST_TLS.cert });
    await startEmailWorker(env, smtp.port);
    await createHookTemplate(app, "ping", "webhook", '{"ping": "{{n}}"}', ["n"]);
    await createHookTemplate(app, "ping", "slack", '{"text": "ping {{n}}"}', ["n"]);
    await createWelcomeTemplate(app);
  });

  afterEach(() => {
    receiver.clearFaults();
    slack.clearFaults();
    smtp.clearFaults();
  });

  afterAll(async () => {
    await env.cleanup();
    await receiver.stop();
    await slack.stop();
    await smtp.stop();
  });

  it("sends the delivery again, once, with its request id and correlation id and its attempts reset; a second replay is refused", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/once") });
    receiver.fail({ mode: "status", status: 404 }, 1);
    const sent = await request(app)
      .post("/notifications/send")
      .set({ ...AUTH, "X-Correlation-ID": "corr-original" })
      .send({ user_id: user.id, channel: "webhook", template_id: "ping", variables: { n: 1 }, priority: "high" });
    const requestId = sent.body.data.request_id as string;
    const failed = await deliveryIn(app, requestId, "dead_lettered");
    const dead = await deadLetterOf(requestId);

    const res = await replay(dead.id, { "X-Correlation-ID": "corr-operator" });
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual({
      id: dead.id,
      delivery_id: failed.delivery_id,
      request_id: requestId,
      channel: "webhook",
      delivery_status: "queued",
      replayed_at: expect.any(String),
      replay_count: 1,
    });

    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(1);
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["webhook_http_404"]);
    const posted = at("/once");
    expect(posted.map((r) => r.status)).toEqual([404, 200]);
    expect(posted[1]!.headers).toMatchObject({
      "x-correlation-id": "corr-original",
      "x-herald-request-id": requestId,
      "x-herald-delivery-id": failed.delivery_id,
    });
    expect(verifyWebhookSignature(user.secret!, posted[1]!)).toBe(true);

    const again = await replay(dead.id);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("already_replayed");
    await sleep(500);
    expect(at("/once")).toHaveLength(2);
    expect(await env.db.prisma.outboxMessage.count()).toBe(0);
    const view = await request(app).get(`/dlq/${dead.id}`).set(AUTH);
    expect(view.body.data).toMatchObject({ replay_count: 1, replayed_at: res.body.data.replayed_at, delivery: { status: "sent", priority: "high", attempts: 1 } });
  });

  it("sends once when two replays of the same dead letter race", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/race") });
    receiver.fail({ mode: "status", status: 404 }, 1);
    const requestId = await sendTo(app, user.id, "webhook", "ping", { n: 2 });
    await deliveryIn(app, requestId, "dead_lettered");
    const dead = await deadLetterOf(requestId);

    const answers = await Promise.all([replay(dead.id), replay(dead.id), replay(dead.id)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409]);
    await deliveryIn(app, requestId, "sent");
    await sleep(500);
    expect(at("/race").map((r) => r.status)).toEqual([404, 200]);
  });

  it("can replay again a delivery that failed again after a replay", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/twice") });
    receiver.fail({ mode: "status", status: 404 }, 2);
    const requestId = await sendTo(app, user.id, "webhook", "ping", { n: 3 });
    await deliveryIn(app, requestId, "dead_lettered");
    const first = await deadLetterOf(requestId);
    expect((await replay(first.id)).status).toBe(202);
    await deliveryIn(app, requestId, "dead_lettered");
    const second = await deadLetterOf(requestId);
    expect(second.id).not.toBe(first.id);

    const res = await replay(second.id);
    expect(res.status).toBe(202);
    await deliveryIn(app, requestId, "sent");
    expect(at("/twice").map((r) => r.status)).toEqual([404, 404, 200]);
    expect((await replay(first.id)).status).toBe(409);
    const rows = await env.db.prisma.deadLetter.findMany({ where: { requestId }, orderBy: { id: "asc" } });
    expect(rows.map((r) => r.replayCount)).toEqual([1, 1]);
  });

  it("a bulk replay with nothing to replay answers at once, also four at a time: it takes none of the replay budget", async () => {
    const budgetKey = "ratelimit:dlq:replay";
    await env.redis.del(budgetKey);
    const answers = await Promise.all(Array.from({ length: 4 }, () => bulk({ channel: "push", error_code: "nothing_like_this" })));
    for (const answer of answers) expect(answer.body.data).toEqual({ replayed: 0, remaining: 0 });
    // Only a call that takes budget can wait for it (DLQ_REPLAY_RATE is 2 here: four calls taking
    // it would wait seconds for each other); none was taken.
    expect(await env.redis.exists(budgetKey)).toBe(0);
  });

  it("replays an email dead letter through the email worker", async () => {
    smtp.fail({ mode: "reply", code: 550, message: "mailbox unavailable" }, 1);
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    await deliveryIn(app, requestId, "dead_lettered");
    const dead = await deadLetterOf(requestId);
    expect(dead).toMatchObject({ channel: "email", errorCode: "smtp_550" });

    expect((await replay(dead.id)).status).toBe(202);
    const status = await statusOf(app, requestId);
    expect(["queued", "processing", "sent"]).toContain(status.deliveries[0]!.status);
    await deliveryIn(app, requestId, "sent");
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
    expect((await replay(dead.id)).status).toBe(409);
  });

  it("replays in bulk what matches and is not replayed yet, paced to DLQ_REPLAY_RATE, and says what remains", async () => {
    receiver.fail({ mode: "status", status: 410 }, 4);
    slack.fail({ mode: "status", status: 404, body: "no_service" }, 2);
    const hookUser = await createHookUser(env, app, { webhook_url: receiver.url("/bulk") });
    const slackUser = await createHookUser(env, app, { slack_webhook_url: slack.url("/services/T/B/bulk") });
    const hooks: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      const id = await sendTo(app, hookUser.id, "webhook", "ping", { n });
      await deliveryIn(app, id, "dead_lettered");
      hooks.push(id);
    }
    for (const n of [5, 6]) await deliveryIn(app, await sendTo(app, slackUser.id, "slack", "ping", { n }), "dead_lettered");

    const started = Date.now();
    const first = await bulk({ channel: "webhook", error_code: "webhook_http_410", limit: 3 });
    const took = Date.now() - started;
    expect(first.status).toBe(202);
    expect(first.body.data).toEqual({ replayed: 3, remaining: 1 });
    // RATE per second: the third had to wait for the next second's budget.
    expect(took).toBeGreaterThanOrEqual(600);

    const rest = await bulk({ channel: "webhook", error_code: "webhook_http_410" });
    expect(rest.body.data).toEqual({ replayed: 1, remaining: 0 });
    for (const id of hooks) await deliveryIn(app, id, "sent");
    await sleep(300);
    const bodies = at("/bulk").filter((r) => r.status === 200).map((r) => (JSON.parse(r.body) as { ping: string }).ping);
    expect(bodies.sort()).toEqual(["1", "2", "3", "4"]);

    // Slack's were not touched; nothing is left to replay for webhooks.
    const open = await request(app).get("/dlq").query({ channel: "slack", error_code: "slack_no_service", replayed: "false" }).set(AUTH);
    expect(open.body.data).toHaveLength(2);
    expect((await bulk({ channel: "webhook", error_code: "webhook_http_410" })).body.data).toEqual({ replayed: 0, remaining: 0 });

    const slackReplay = await bulk({ channel: "slack" });
    expect(slackReplay.body.data).toEqual({ replayed: 2, remaining: 0 });
    const slackPath = (r: { path: string }) => r.path === "/services/T/B/bulk";
    await waitFor(() => slack.received.filter(slackPath).length === 2, { what: "both Slack messages" });
    await sleep(300);
    expect(slack.received.filter(slackPath)).toHaveLength(2);
  });

  it.each([
    [{ limit: 0 }, "limit"],
    [{ limit: 1001 }, "limit"],
    [{ channel: "fax" }, "channel"],
    [{ from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }, "to"],
    [{ everything: true }, "(body)"],
  ])("refuses the bulk replay %j naming %s, replaying nothing", async (body, field) => {
    const before = await env.db.prisma.deadLetter.count({ where: { replayedAt: { not: null } } });
    const res = await bulk(body);
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await env.db.prisma.deadLetter.count({ where: { replayedAt: { not: null } } })).toBe(before);
  });
});
