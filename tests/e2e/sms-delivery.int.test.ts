import request from "supertest";
import type { Express } from "express";
import { createTestEnv, FakeTwilio, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, startApi } from "../support/system";
import { drainQueue, header } from "../support/broker";
import { createChannelTemplates, createDeviceUser, sendOrder, SMS_FROM, startSmsWorker, twilioEnv, WHATSAPP_FROM } from "../support/channels";
import { deliveryIn } from "../support/webhook";

describe("SMS and WhatsApp through Twilio (a fake Twilio Messages API)", () => {
  let env: TestEnv;
  let app: Express;
  const twilio = new FakeTwilio();
  const to = (address: string) => twilio.sends.filter((s) => s.to === address);

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_BASE_DELAY_MS: "200", MAX_RETRY_ATTEMPTS: "3", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000", TWILIO_TIMEOUT: "1s" });
    await twilio.start();
    ({ app } = await startApi(env, twilioEnv(twilio)));
    await createChannelTemplates(app);
  });

  afterEach(() => twilio.clearFaults());

  afterAll(async () => {
    await env.cleanup();
    await twilio.stop();
  });

  it("fails a delivery, without retrying it, when the user has no phone number left at send time", async () => {
    // The worker is not running yet: the message waits while the user's phone number is erased.
    const user = await createDeviceUser(app);
    const requestId = await sendOrder(app, user.id, "sms");
    expect((await request(app).patch(`/users/${user.id}`).set(AUTH).send({ phone: null })).status).toBe(200);
    await startSmsWorker(env, twilio);
    const delivery = await deliveryIn(app, requestId, "failed");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: "no_phone_number" });
    await sleep(300);
    expect(twilio.sends).toHaveLength(0);
    expect(await env.db.prisma.deadLetter.count({ where: { requestId } })).toBe(0);
  });

  it("sends the rendered SMS from TWILIO_FROM to the user's phone, and keeps the message SID", async () => {
    const user = await createDeviceUser(app);
    const requestId = await sendOrder(app, user.id, "sms", "77");
    const delivery = await deliveryIn(app, requestId, "sent");
    const message = twilio.received.find((m) => m.to === user.phone)!;
    expect(message).toMatchObject({ from: SMS_FROM, body: "Hi Ada, order 77 shipped." });
    expect(delivery).toMatchObject({ attempts: 1, provider_message_id: message.sid });
  });

  it("sends WhatsApp to whatsapp:<phone> from whatsapp:TWILIO_WHATSAPP_FROM", async () => {
    const user = await createDeviceUser(app);
    const requestId = await sendOrder(app, user.id, "whatsapp", "78");
    await deliveryIn(app, requestId, "sent");
    expect(twilio.received.find((m) => m.to === `whatsapp:${user.phone}`)).toMatchObject({ from: `whatsapp:${WHATSAPP_FROM}`, body: "Hi Ada, order *78* shipped." });
  });

  it("retries Twilio's rate limit and server errors, then delivers once", async () => {
    const user = await createDeviceUser(app);
    twilio.fail("rate_limited", 1);
    twilio.fail("server_error", 1);
    const requestId = await sendOrder(app, user.id, "sms");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(3);
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["twilio_20429", "twilio_20500"]);
    expect(to(user.phone)).toHaveLength(3);
    expect(twilio.received.filter((m) => m.to === user.phone)).toHaveLength(1);
  });

  it("retries a hung call after TWILIO_TIMEOUT", async () => {
    const user = await createDeviceUser(app);
    twilio.fail("hang", 1);
    const requestId = await sendOrder(app, user.id, "sms");
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.errors.map((e) => e.error_code)).toEqual(["twilio_timeout"]);
  });

  it.each([
    ["sms", 21211, "invalid 'To' number"],
    ["whatsapp", 21610, "the recipient unsubscribed"],
    ["sms", 21614, "not a mobile number"],
    ["whatsapp", 63003, "WhatsApp could not find the recipient"],
  ] as const)("dead-letters %s error %i at once (%s)", async (channel, code, text) => {
    const user = await createDeviceUser(app);
    const address = channel === "whatsapp" ? `whatsapp:${user.phone}` : user.phone;
    twilio.behave(address, { code, message: `Twilio error ${code}` });
    const requestId = await sendOrder(app, user.id, channel);
    const delivery = await deliveryIn(app, requestId, "dead_lettered");
    expect(delivery).toMatchObject({ attempts: 1, last_error_code: `twilio_${code}` });
    expect(delivery.last_error).toContain(text);
    expect(to(address)).toHaveLength(1);
    const dead = await waitFor(async () => (await drainQueue(env.broker, "failed.queue")).find((m) => header(m, "x-request-id") === requestId));
    expect(header(dead, "x-error-code")).toBe(`twilio_${code}`);
  });

  it("delivers a dead letter once when it is replayed after the cause is fixed", async () => {
    const user = await createDeviceUser(app);
    twilio.behave(user.phone, { code: 21610, message: "Attempt to send to unsubscribed recipient" });
    const requestId = await sendOrder(app, user.id, "sms");
    await deliveryIn(app, requestId, "dead_lettered");
    const row = await env.db.prisma.deadLetter.findFirstOrThrow({ where: { requestId } });

    twilio.behave(user.phone, "ok"); // the user texted START
    expect((await request(app).post(`/dlq/${row.id}/replay`).set(AUTH)).status).toBe(202);
    const delivery = await deliveryIn(app, requestId, "sent");
    expect(delivery.attempts).toBe(1);
    expect((await request(app).post(`/dlq/${row.id}/replay`).set(AUTH)).status).toBe(409);
    await sleep(500);
    expect(twilio.received.filter((m) => m.to === user.phone)).toHaveLength(1);
  });
});
