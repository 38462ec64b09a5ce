import request from "supertest";
import type { Express } from "express";
import type { DeliveryWorker } from "@herald/delivery";
import { createHttpApp } from "@herald/http";
import type { Runtime } from "@herald/runtime";
import { createTestEnv, FakeFcm, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { startApi } from "../support/system";
import { BREAKER_TEST_ENV, createChannelTemplates, createDeviceUser, expectAllSent, sendOrder, startPushWorker } from "../support/channels";

describe("the FCM circuit breaker", () => {
  let env: TestEnv;
  let app: Express;
  let worker: DeliveryWorker;
  let runtime: Runtime;
  const fcm = new FakeFcm();

  beforeAll(async () => {
    env = await createTestEnv(BREAKER_TEST_ENV);
    await fcm.start();
    ({ app } = await startApi(env));
    ({ worker, runtime } = await startPushWorker(env, fcm));
    await createChannelTemplates(app);
  });

  afterAll(async () => {
    await env.cleanup();
    await fcm.stop();
  });

  it("opens after consecutive failures, pauses push.queue while open (it fills up), trials one send when half-open, and drains once FCM recovers", async () => {
    const breaker = worker.breakers.get("fcm")!;
    const health = createHttpApp({ service: "push-worker", logger: runtime.logger, registry: runtime.registry, checks: {}, healthDetails: () => worker.health() });
    const states: string[] = [];
    for (const state of ["open", "half_open", "closed"]) breaker.on(state, () => states.push(state));

    fcm.fail("internal");
    const users = await Promise.all(Array.from({ length: 4 }, (_, i) => createDeviceUser(app, [[`brk-${i}`, "android"]])));
    const first = await Promise.all(users.map((u) => sendOrder(app, u.id, "push")));

    await waitFor(() => breaker.state === "open", { what: "the breaker to open" });
    // Sends that took their permit before the breaker opened may still be finishing: let them.
    await waitFor(() => worker.health().in_flight === 0, { what: "in-flight sends to settle" });
    const atOpen = fcm.sends.length;
    expect(atOpen).toBeGreaterThanOrEqual(3);
    const healthBody = (await request(health).get("/health")).body.data;
    expect(healthBody).toMatchObject({ queue: "push.queue", consuming: false, breakers: { fcm: "open" } });
    expect((await request(health).get("/metrics")).text).toMatch(/circuit_breaker_state\{provider="fcm"[^}]*\} 2/);

    // While open nothing reaches FCM and new work waits in the queue.
    const more = await Promise.all(
      Array.from({ length: 3 }, async (_, i) => {
        const user = await createDeviceUser(app, [[`brk-late-${i}`, "ios"]]);
        users.push(user);
        return sendOrder(app, user.id, "push");
      }),
    );
    await waitFor(async () => (await env.queueDepth("push.queue")) >= 3, { what: "work waiting in push.queue" });
    await sleep(300);
    expect(fcm.sends.length).toBe(atOpen);
    expect(states).toEqual(["open"]);

    // Half-open with FCM still failing: exactly one trial, and it opens again.
    await waitFor(() => fcm.sends.length > atOpen, { timeoutMs: 10_000, what: "the half-open trial" });
    await waitFor(() => breaker.state === "open", { what: "the breaker to reopen" });
    expect(fcm.sends.length).toBe(atOpen + 1);

    // FCM recovers: the next trial succeeds, the breaker closes, everything is delivered once.
    fcm.clearFaults();
    await waitFor(() => breaker.state === "closed", { timeoutMs: 10_000, what: "the breaker to close" });
    await waitFor(() => users.every((u, i) => fcm.received.some((m) => m.token === (i < 4 ? `brk-${i}` : `brk-late-${i - 4}`))), {
      timeoutMs: 10_000,
      what: "every push",
    });
    for (const token of [...users.keys()].map((i) => (i < 4 ? `brk-${i}` : `brk-late-${i - 4}`))) {
      expect(fcm.received.filter((m) => m.token === token)).toHaveLength(1);
    }
    expect(states).toEqual(["open", "half_open", "open", "half_open", "closed"]);
    expect((await request(health).get("/health")).body.data).toMatchObject({ consuming: true, breakers: { fcm: "closed" } });
    expect((await request(health).get("/metrics")).text).toMatch(/circuit_breaker_state\{provider="fcm"[^}]*\} 0/);

    // No message burned its retries on the open breaker.
    await expectAllSent(app, [...first, ...more], 3);
    expect(await env.queueDepth("push.queue")).toBe(0);
    expect(await env.db.prisma.deadLetter.count()).toBe(0);
  });
});
