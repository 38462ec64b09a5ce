import request from "supertest";
import type { Express } from "express";
import { createTestEnv, FakeWebhook, sleep, TEST_TLS, verifyWebhookSignature, type TestEnv } from "@herald/testkit";
import { AUTH } from "../support/system";
import { drainQueue, header } from "../support/broker";
import { startApi } from "../support/system";
import { createHookTemplate, createHookUser, deliveryIn, sendTo, startWebhookWorker } from "../support/webhook";

const BASE = 200;

describe("webhook and Slack delivery", () => {
  let env: TestEnv;
  let app: Express;
  const receiver = new FakeWebhook();
  /** Slack webhook URLs must be https: a receiver with a certificate the worker is told to trust. */
  const slack = new FakeWebhook({ tls: true });

  beforeAll(async () => {
    // A high breaker threshold: these tests are about outcomes and retries; the breaker has its own file.
    env = await createTestEnv({
      RETRY_BASE_DELAY_MS: String(BASE),
      MAX_RETRY_ATTEMPTS: "3",
      WEBHOOK_BREAKER_FAILURE_THRESHOLD: "1000",
      WEBHOOK_TIMEOUT: "600ms",
    });
    await receiver.start();
    await slack.start();
    ({ app } = await startApi(env));
    await startWebhookWorker(env, {}, { ca: TEST_TLS.cert });
    await createHookTemplate(app, "order_json", "webhook", '{"event": "order.created", "order": {"id": {{{order_id}}}, "note": "{{note}}"}}', ["order_id", "note"]);
    await createHookTemplate(app, "plain", "webhook", '{"text": "Order {{order_id}} shipped"}', ["order_id"]);
    await createHookTemplate(app, "plain", "slack", '{"text": "Order *{{order_id}}* shipped"}', ["order_id"]);
    await createHookTemplate(app, "counted", "webhook", '{"count": {{{count}}}}', ["count"]);
    await createHookTemplate(app, "blocks", "slack", '{"text": "Deploy {{version}}", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Deployed *{{version}}*"}}]}', ["version"]);
  });

  afterEach(() => {
    receiver.clearFaults();
    slack.clearFaults();
  });

  afterAll(async () => {
    await env.cleanup();
    await receiver.stop();
    await slack.stop();
  });

  const hits = (path: string) => receiver.requests.filter((r) => r.path === path);

  it("POSTs the rendered JSON, signed so that the receiver can verify it, with the delivery's ids", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/signed") });
    expect(user.secret).toEqual(expect.any(String));
    const res = await request(app)
      .post("/notifications/send")
      .set({ ...AUTH, "X-Correlation-ID": "corr-webhook-1" })
      .send({ user_id: user.id, channel: "webhook", template_id: "order_json", variables: { order_id: 42, note: 'fragile "glass"\nhandle with care' } });
    expect(res.status).toBe(202);
    const delivery = await deliveryIn(app, res.body.data.request_id, "sent");
    expect(delivery).toMatchObject({ attempts: 1, provider_message_id: null });

    const [got] = hits("/signed");
    expect(got).toBeDefined();
    expect(JSON.parse(got!.body)).toEqual({ event: "order.created", order: { id: 42, note: 'fragile "glass"\nhandle with care' } });
    expect(got!.headers).toMatchObject({
      "content-type": "application/json",
      "x-herald-delivery-id": delivery.delivery_id,
      "x-herald-request-id": res.body.data.request_id,
      "x-correlation-id": "corr-webhook-1",
    });
    expect(verifyWebhookSignature(user.secret!, got!)).toBe(true);
    expect(verifyWebhookSignature("whsec_wrong", got!)).toBe(false);
  });

  it("dead-letters a body that a {{{raw}}} value made invalid JSON, without posting it", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/broken") });
    await deliveryIn(app, await sendTo(app, user.id, "webhook", "counted", { count: 7 }), "sent");
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "webhook", "counted", { count: "seven" }), "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "webhook_invalid_json" });
    expect(hits("/broken").map((r) => JSON.parse(r.body) as unknown)).toEqual([{ count: 7 }]);
  });

  it("posts Slack's incoming-webhook JSON (text, blocks), unsigned", async () => {
    const user = await createHookUser(env, app, { slack_webhook_url: slack.url("/services/T1/B1/xyz") });
    await deliveryIn(app, await sendTo(app, user.id, "slack", "plain", { order_id: "A-8" }), "sent");
    await deliveryIn(app, await sendTo(app, user.id, "slack", "blocks", { version: 'v1.2 "quoted"' }), "sent");
    const [text, blocks] = slack.requests.filter((r) => r.path === "/services/T1/B1/xyz");
    expect(JSON.parse(text!.body)).toEqual({ text: "Order *A-8* shipped" });
    expect(JSON.parse(blocks!.body)).toEqual({
      text: 'Deploy v1.2 "quoted"',
      blocks: [{ type: "section", text: { type: "mrkdwn", text: 'Deployed *v1.2 "quoted"*' } }],
    });
    expect(text!.headers["x-signature"]).toBeUndefined();
  });

  it("retries a 503 after the retry delays, then delivers once", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/flaky") });
    receiver.fail({ mode: "status", status: 503, body: "maintenance" }, 2);
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "webhook", "plain", { order_id: 1 }), "sent");
    expect(delivery).toMatchObject({ attempts: 3 });
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["webhook_http_503", "webhook_http_503"]);
    const attempts = hits("/flaky");
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(BASE - 20);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(2 * BASE - 20);
    // Each attempt is signed afresh; all carry the same delivery id.
    expect(new Set(attempts.map((a) => a.headers["x-herald-delivery-id"])).size).toBe(1);
    expect(attempts.every((a) => verifyWebhookSignature(user.secret!, a))).toBe(true);
  });

  it("retries a receiver that does not answer within WEBHOOK_TIMEOUT", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/slow") });
    receiver.fail({ mode: "hang" }, 1);
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "webhook", "plain", { order_id: 2 }), "sent");
    expect(delivery).toMatchObject({ attempts: 2 });
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["webhook_timeout"]);
    expect(hits("/slow").map((a) => a.status)).toEqual([undefined, 200]);
  });

  it("sends a 4xx straight to the dead-letter queue: no retry, a dead_letters row and a copy in failed.queue", async () => {
    await drainQueue(env.broker, "failed.queue");
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/gone") });
    receiver.fail({ mode: "status", status: 410, body: "endpoint removed" }, 1);
    const requestId = await sendTo(app, user.id, "webhook", "plain", { order_id: 3 });
    const delivery = await deliveryIn(app, requestId, "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "webhook_http_410" });
    expect(delivery.last_error).toContain("endpoint removed");
    await sleep(3 * BASE);
    expect(hits("/gone")).toHaveLength(1);
    const row = await env.db.prisma.deadLetter.findFirstOrThrow({ where: { requestId } });
    expect(row).toMatchObject({ channel: "webhook", errorCode: "webhook_http_410", attempts: 1, deliveryId: delivery.delivery_id });
    const copies = await drainQueue(env.broker, "failed.queue");
    expect(copies.map((m) => header(m, "x-request-id"))).toEqual([requestId]);
  });

  it("does not follow a redirect: dead-lettered as webhook_redirect, the target never requested", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/moved") });
    receiver.fail({ mode: "redirect", location: receiver.url("/new-home"), status: 301 }, 1);
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "webhook", "plain", { order_id: 4 }), "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "webhook_redirect" });
    expect(hits("/moved")).toHaveLength(1);
    expect(hits("/new-home")).toHaveLength(0);
  });

  it("dead-letters Slack's invalid_payload at once", async () => {
    const user = await createHookUser(env, app, { slack_webhook_url: slack.url("/services/T1/B1/bad") });
    slack.fail({ mode: "status", status: 400, body: "invalid_payload" }, 1);
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "slack", "plain", { order_id: 5 }), "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "slack_invalid_payload" });
  });

  it("does not send a webhook it cannot sign", async () => {
    const user = await createHookUser(env, app, { webhook_url: receiver.url("/unsigned") });
    await env.db.prisma.user.update({ where: { id: user.id }, data: { webhookSecret: null } });
    const delivery = await deliveryIn(app, await sendTo(app, user.id, "webhook", "plain", { order_id: 6 }), "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "webhook_secret_missing" });
    expect(hits("/unsigned")).toHaveLength(0);
  });

  it("leaves nothing waiting in the work and delay queues", async () => {
    for (const queue of ["webhook.queue", `webhook.queue.retry.${BASE}ms`, `webhook.queue.retry.${2 * BASE}ms`, `webhook.queue.retry.${4 * BASE}ms`]) {
      expect(await env.queueDepth(queue)).toBe(0);
    }
  });
});
