import type { Express } from "express";
import type { DeliveryWorker } from "@herald/delivery";
import { createTestEnv, FakeTwilio, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { startApi } from "../support/system";
import { BREAKER_TEST_ENV, createChannelTemplates, createDeviceUser, expectAllSent, sendOrder, startSmsWorker, twilioEnv } from "../support/channels";

describe("the Twilio circuit breaker (one for SMS and WhatsApp)", () => {
  let env: TestEnv;
  let app: Express;
  let worker: DeliveryWorker;
  const twilio = new FakeTwilio();

  beforeAll(async () => {
    env = await createTestEnv(BREAKER_TEST_ENV);
    await twilio.start();
    ({ app } = await startApi(env, twilioEnv(twilio)));
    ({ worker } = await startSmsWorker(env, twilio));
    await createChannelTemplates(app);
  });

  afterAll(async () => {
    await env.cleanup();
    await twilio.stop();
  });

  it("opens on Twilio 5xx, holds SMS and WhatsApp in sms.queue while open, and delivers each once after recovery", async () => {
    const breaker = worker.breakers.get("twilio")!;
    expect([...worker.breakers.keys()]).toEqual(["twilio"]);
    const states: string[] = [];
    for (const state of ["open", "half_open", "closed"]) breaker.on(state, () => states.push(state));
    twilio.fail("server_error");
    const users = await Promise.all(Array.from({ length: 4 }, () => createDeviceUser(app)));
    const requests = await Promise.all(users.map((u, i) => sendOrder(app, u.id, i % 2 === 0 ? "sms" : "whatsapp")));

    await waitFor(() => breaker.state === "open", { what: "the breaker to open" });
    expect(worker.health()).toMatchObject({ queue: "sms.queue", consuming: false, breakers: { twilio: "open" } });
    // Sends that took their permit before the breaker opened may still be finishing: let them.
    await waitFor(() => worker.health().in_flight === 0, { what: "in-flight sends to settle" });
    const atOpen = twilio.sends.length;
    const late = await createDeviceUser(app);
    users.push(late);
    requests.push(await sendOrder(app, late.id, "whatsapp"));
    await waitFor(async () => (await env.queueDepth("sms.queue")) >= 1, { what: "work waiting in sms.queue" });
    await sleep(300);
    expect(twilio.sends.length).toBe(atOpen);
    expect(states).toEqual(["open"]);

    twilio.clearFaults();
    await waitFor(() => breaker.state === "closed", { timeoutMs: 10_000, what: "the breaker to close" });
    await expectAllSent(app, requests, 3);
    for (const [i, user] of users.entries()) {
      const address = i % 2 === 0 && i < 4 ? user.phone : `whatsapp:${user.phone}`;
      expect(twilio.received.filter((m) => m.to === address)).toHaveLength(1);
    }
    expect(worker.health()).toMatchObject({ consuming: true, breakers: { twilio: "closed" } });
    expect(await env.db.prisma.deadLetter.count()).toBe(0);
  });
});
