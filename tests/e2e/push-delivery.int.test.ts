import request from "supertest";
import type { Express } from "express";
import { createTestEnv, FakeFcm, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, startApi, statusOf } from "../support/system";
import { drainQueue, header } from "../support/broker";
import { createChannelTemplates, createDeviceUser, devicesOf, sendOrder, startPushWorker } from "../support/channels";
import { deliveryIn } from "../support/webhook";

describe("push through FCM (a fake FCM v1 API)", () => {
  let env: TestEnv;
  let app: Express;
  const fcm = new FakeFcm();
  const sendsTo = (token: string) => fcm.sends.filter((s) => s.token === token);

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_BASE_DELAY_MS: "200", MAX_RETRY_ATTEMPTS: "3", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", PUSH_TIMEOUT: "1s" });
    await fcm.start();
    ({ app } = await startApi(env, { FIREBASE_SERVICE_ACCOUNT: fcm.serviceAccountJson }));
    await createChannelTemplates(app);
  });

  afterEach(() => fcm.clearFaults());

  afterAll(async () => {
    await env.cleanup();
    await fcm.stop();
  });

  it("fails a delivery, without retrying it, when the user has no device left at send time", async () => {
    // The worker is not running yet: the message waits while the user's only device is removed.
    const user = await createDeviceUser(app, [["gone-1", "android"]]);
    const requestId = await sendOrder(app, user.id, "push");
    expect((await request(app).delete(`/users/${user.id}/devices/gone-1`).set(AUTH)).status).toBe(204);
    await startPushWorker(env, fcm);
    const delivery = await deliveryIn(app, requestId, "failed");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "no_devices", last_error: "the user has no registered push devices" });
    await sleep(500);
    expect((await statusOf(app, requestId)).deliveries[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(fcm.sends).toHaveLength(0);
    expect(await env.db.prisma.deadLetter.count({ where: { requestId } })).toBe(0);
  });

  it("sends the rendered title, body, data and image to every device of the user, and records each device", async () => {
    const user = await createDeviceUser(app, [
      ["tok-android", "android"],
      ["tok-ios", "ios"],
      ["tok-web", "web"],
    ]);
    const requestId = await sendOrder(app, user.id, "push", "42", { priority: "high" });
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(1);
    for (const token of ["tok-android", "tok-ios", "tok-web"]) {
      const message = fcm.received.find((m) => m.token === token)!;
      expect(message.notification).toEqual({ title: "Order 42 shipped", body: "Hi Ada, order 42 is on its way.", image: "https://cdn.example.com/orders/42.png" });
      expect(message.data).toEqual({ order_id: "42", screen: "orders" });
    }
    expect(fcm.received.find((m) => m.token === "tok-android")!.android).toMatchObject({ priority: "high" });
    expect(fcm.received.find((m) => m.token === "tok-ios")!.apns).toMatchObject({ headers: { "apns-priority": "10" } });
    expect(fcm.received.find((m) => m.token === "tok-web")!.webpush).toMatchObject({ headers: { Urgency: "high" } });
    const ids = fcm.received.filter((m) => m.token.startsWith("tok-")).map((m) => m.name);
    expect(delivery.provider_message_id!.split(",").sort()).toEqual(ids.sort());
    const view = (await request(app).get(`/notifications/${requestId}`).set(AUTH)).body.data.deliveries[0];
    expect(view.outcome).toEqual({
      removed_tokens: [],
      devices: expect.arrayContaining([
        expect.objectContaining({ token: "tok-android", platform: "android", status: "sent" }),
        expect.objectContaining({ token: "tok-ios", platform: "ios", status: "sent" }),
        expect.objectContaining({ token: "tok-web", platform: "web", status: "sent" }),
      ]),
    });
  });

  it("removes the tokens FCM reports unregistered or invalid, and still sends to the others", async () => {
    fcm.behave("dead-1", "unregistered");
    fcm.behave("bad-1", "invalid_token");
    const user = await createDeviceUser(app, [
      ["live-1", "android"],
      ["dead-1", "ios"],
      ["bad-1", "web"],
    ]);
    const requestId = await sendOrder(app, user.id, "push");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(1);
    expect(await devicesOf(app, user.id)).toEqual(["live-1"]);
    const view = (await request(app).get(`/notifications/${requestId}`).set(AUTH)).body.data.deliveries[0];
    expect(view.outcome.removed_tokens.sort()).toEqual(["bad-1", "dead-1"]);
    expect(view.outcome.devices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ token: "dead-1", status: "invalid_token", error_code: "fcm_registration_token_not_registered" }),
        expect.objectContaining({ token: "bad-1", status: "invalid_token", error_code: "fcm_invalid_registration_token" }),
      ]),
    );
    // The next push goes to the live device only.
    const next = await sendOrder(app, user.id, "push", "43");
    await deliveryIn(app, next, "sent");
    expect(sendsTo("dead-1")).toHaveLength(1);
    expect(sendsTo("live-1")).toHaveLength(2);
  });

  it("fails (not retried, not dead-lettered) when every token is invalid, and removes them all", async () => {
    fcm.behave("dead-2", "unregistered");
    fcm.behave("dead-3", "invalid_token");
    const user = await createDeviceUser(app, [
      ["dead-2", "android"],
      ["dead-3", "android"],
    ]);
    const requestId = await sendOrder(app, user.id, "push");
    const delivery = await deliveryIn(app, requestId, "failed");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "no_valid_devices" });
    expect(await devicesOf(app, user.id)).toEqual([]);
    await sleep(500);
    expect(sendsTo("dead-2")).toHaveLength(1);
    expect(await env.db.prisma.deadLetter.count({ where: { requestId } })).toBe(0);
    // With no device left the gateway refuses the next push outright.
    const res = await request(app).post("/notifications/send").set(AUTH).send({ user_id: user.id, channel: "push", template_id: "order_shipped", variables: { name: "Ada", order: "1" } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("channel_not_available");
  });

  it("retries a server error after the base delay and delivers", async () => {
    const user = await createDeviceUser(app, [["retry-1", "android"]]);
    fcm.fail("internal", 2);
    const requestId = await sendOrder(app, user.id, "push");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(3);
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["fcm_internal_error", "fcm_internal_error"]);
    const times = sendsTo("retry-1").map((s) => s.at);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(200 - 20);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(400 - 20);
    expect(fcm.received.filter((m) => m.token === "retry-1")).toHaveLength(1);
  });

  it("times out a hung FCM call (PUSH_TIMEOUT) as retryable, then delivers", async () => {
    const user = await createDeviceUser(app, [["hang-1", "ios"]]);
    fcm.fail("hang", 1);
    const requestId = await sendOrder(app, user.id, "push");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(2);
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["fcm_network_timeout"]);
  });

  it("sends a message FCM refuses straight to the dead-letter queue; a replay after the fix delivers once", async () => {
    fcm.behave("refuse-1", "invalid_message");
    const user = await createDeviceUser(app, [["refuse-1", "android"]]);
    const requestId = await sendOrder(app, user.id, "push");
    const delivery = await deliveryIn(app, requestId, "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "fcm_invalid_argument" });
    expect(await devicesOf(app, user.id)).toEqual(["refuse-1"]);
    const dead = await waitFor(async () => {
      const messages = await drainQueue(env.broker, "failed.queue");
      return messages.find((m) => header(m, "x-request-id") === requestId);
    });
    expect(header(dead, "x-error-code")).toBe("fcm_invalid_argument");
    expect(header(dead, "x-attempt")).toBe("1");
    const row = await env.db.prisma.deadLetter.findFirstOrThrow({ where: { requestId } });
    expect(row).toMatchObject({ channel: "push", errorCode: "fcm_invalid_argument", attempts: 1 });

    fcm.behave("refuse-1", "ok");
    const replay = await request(app).post(`/dlq/${row.id}/replay`).set(AUTH);
    expect(replay.status).toBe(202);
    await deliveryIn(app, requestId, "sent");
    expect((await request(app).post(`/dlq/${row.id}/replay`).set(AUTH)).status).toBe(409);
    await sleep(500);
    expect(fcm.received.filter((m) => m.token === "refuse-1")).toHaveLength(1);
    expect(sendsTo("refuse-1")).toHaveLength(2);
  });
});
