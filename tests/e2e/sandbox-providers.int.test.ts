import request from "supertest";
import type { Express } from "express";
import { createTestEnv, FakeFcm, type TestEnv } from "@herald/testkit";
import { AUTH, startApi } from "../support/system";
import { createChannelTemplates, createDeviceUser, sendOrder, startPushWorker, startSmsWorker } from "../support/channels";
import { deliveryIn } from "../support/webhook";

describe("the sandbox providers (no provider credentials)", () => {
  let env: TestEnv;
  let app: Express;
  const messages = async (channel: string, to?: string) =>
    (await request(app).get("/sandbox/messages").query({ channel, ...(to ? { to } : {}) }).set(AUTH)).body.data as {
      to: string;
      subject: string | null;
      body: string;
      payload: Record<string, unknown>;
      delivery_id: string;
    }[];
  const fault = (body: Record<string, unknown>) => request(app).post("/sandbox/faults").set(AUTH).send(body);

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_BASE_DELAY_MS: "150", MAX_RETRY_ATTEMPTS: "3", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", TWILIO_TIMEOUT: "600ms" });
    ({ app } = await startApi(env));
    const push = await startPushWorker(env);
    const sms = await startSmsWorker(env);
    expect([...push.worker.breakers.keys()]).toEqual(["sandbox-push"]);
    expect(sms.worker.health()).toMatchObject({ breakers: { "sandbox-text": "closed" } });
    await createChannelTemplates(app);
  });

  afterEach(async () => {
    await request(app).delete("/sandbox/faults").set(AUTH);
  });

  afterAll(() => env.cleanup());

  it("records push, SMS and WhatsApp messages for GET /sandbox/messages", async () => {
    const user = await createDeviceUser(app, [
      ["sbx-a", "android"],
      ["sbx-w", "web"],
    ]);
    const ids = [await sendOrder(app, user.id, "push", "5"), await sendOrder(app, user.id, "sms", "6"), await sendOrder(app, user.id, "whatsapp", "7")];
    const sent = await Promise.all(ids.map((id) => deliveryIn(app, id, "sent")));

    const [push] = await messages("push", "sbx-a");
    expect(push).toMatchObject({
      to: "sbx-a, sbx-w",
      subject: "Order 5 shipped",
      body: "Hi Ada, order 5 is on its way.",
      delivery_id: sent[0]!.delivery_id,
      payload: { data: { order_id: "5", screen: "orders" }, image: "https://cdn.example.com/orders/5.png", urgent: false },
    });
    const view = (await request(app).get(`/notifications/${ids[0]}`).set(AUTH)).body.data.deliveries[0];
    expect(view.outcome.devices.map((d: { token: string; status: string }) => `${d.token} ${d.status}`)).toEqual(["sbx-a sent", "sbx-w sent"]);
    expect(await messages("sms", user.phone)).toEqual([expect.objectContaining({ to: user.phone, body: "Hi Ada, order 6 shipped.", payload: { from: "herald-sandbox" } })]);
    expect(await messages("whatsapp", user.phone)).toEqual([
      expect.objectContaining({ to: `whatsapp:${user.phone}`, body: "Hi Ada, order *7* shipped.", payload: { from: "whatsapp:herald-sandbox" } }),
    ]);
  });

  it("POST /sandbox/faults fail: the next N sends fail and are retried, then delivered", async () => {
    const res = await fault({ channel: "sms", mode: "fail", count: 2 });
    expect(res.status).toBe(201);
    expect(res.body.data).toEqual({ channel: "sms", pending: [{ mode: "fail", remaining: 2 }] });
    const user = await createDeviceUser(app);
    const requestId = await sendOrder(app, user.id, "sms");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(3);
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["sandbox_failure", "sandbox_failure"]);
    expect((await request(app).get("/sandbox/faults").query({ channel: "sms" }).set(AUTH)).body.data).toEqual({ sms: [] });
    expect(await messages("sms", user.phone)).toHaveLength(1);
  });

  it("permanent: straight to the dead-letter queue; faults queue up in order and are per channel", async () => {
    expect((await fault({ channel: "push", mode: "permanent" })).status).toBe(201);
    expect((await fault({ channel: "push", mode: "fail", count: 1 })).body.data.pending).toEqual([
      { mode: "permanent", remaining: 1 },
      { mode: "fail", remaining: 1 },
    ]);
    const user = await createDeviceUser(app, [["sbx-perm", "ios"]]);
    const whatsapp = await sendOrder(app, user.id, "whatsapp");
    await deliveryIn(app, whatsapp, "sent");
    const first = await sendOrder(app, user.id, "push");
    expect(await deliveryIn(app, first, "dead_lettered")).toMatchObject({ attempts: 1, last_error_code: "sandbox_rejected" });
    const second = await sendOrder(app, user.id, "push");
    expect(await deliveryIn(app, second, "sent")).toMatchObject({ attempts: 2 });
    expect(await env.db.prisma.deadLetter.count({ where: { requestId: first } })).toBe(1);
  });

  it("timeout: the send hangs for the provider timeout, then is retried", async () => {
    await fault({ channel: "whatsapp", mode: "timeout", count: 1 });
    const user = await createDeviceUser(app);
    const started = Date.now();
    const requestId = await sendOrder(app, user.id, "whatsapp");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["sandbox_timeout"]);
  });

  it("DELETE /sandbox/faults drops waiting faults", async () => {
    await fault({ channel: "sms", mode: "permanent", count: 5 });
    expect((await request(app).delete("/sandbox/faults").query({ channel: "sms" }).set(AUTH)).status).toBe(204);
    const user = await createDeviceUser(app);
    const requestId = await sendOrder(app, user.id, "sms");
    expect(await deliveryIn(app, requestId, "sent")).toMatchObject({ attempts: 1 });
  });

  it("rejects bad fault requests with the field named, and stores nothing", async () => {
    for (const [body, field] of [
      [{ channel: "email", mode: "fail" }, "channel"],
      [{ channel: "sms", mode: "explode" }, "mode"],
      [{ channel: "sms", mode: "fail", count: 0 }, "count"],
      [{ channel: "sms", mode: "fail", count: 1.5 }, "count"],
      [{ channel: "sms", mode: "fail", extra: true }, "(body)"],
    ] as const) {
      const res = await fault(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(JSON.stringify(res.body.error.details)).toContain(field === "(body)" ? "extra" : field);
    }
    expect((await request(app).get("/sandbox/faults").set(AUTH)).body.data).toEqual({ push: [], sms: [], whatsapp: [] });
    expect((await request(app).post("/sandbox/faults").send({ channel: "sms", mode: "fail" })).status).toBe(401);
  });
});

describe("sandbox faults when a channel has its real provider, and in production", () => {
  let env: TestEnv;
  const fcm = new FakeFcm();

  beforeAll(async () => {
    env = await createTestEnv();
  });

  afterAll(() => env.cleanup());

  it("answers 409 for a channel with credentials, and still takes faults for the sandboxed ones", async () => {
    const { app } = await startApi(env, { FIREBASE_SERVICE_ACCOUNT: fcm.serviceAccountJson, TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`, TWILIO_AUTH_TOKEN: "t", TWILIO_FROM: "+15005550006" });
    for (const channel of ["push", "sms"]) {
      const res = await request(app).post("/sandbox/faults").set(AUTH).send({ channel, mode: "fail" });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("conflict");
      expect(res.body.message).toMatch(/real provider/);
    }
    // No TWILIO_WHATSAPP_FROM: WhatsApp is still the sandbox.
    expect((await request(app).post("/sandbox/faults").set(AUTH).send({ channel: "whatsapp", mode: "fail" })).status).toBe(201);
    expect((await request(app).get("/sandbox/faults").set(AUTH)).body.data).toEqual({ whatsapp: [{ mode: "fail", remaining: 1 }] });
  });

  it("has no sandbox routes in production", async () => {
    const { app } = await startApi(env, { NODE_ENV: "production" });
    const res = await request(app).post("/sandbox/faults").set(AUTH).send({ channel: "sms", mode: "fail" });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
