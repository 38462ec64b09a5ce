import type { Express } from "express";
import type { DeliveryWorker } from "@herald/delivery";
import { createTestEnv, FakeWebhook, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { startApi, statusOf } from "../support/system";
import { createHookTemplate, createHookUser, sendTo, startWebhookWorker } from "../support/webhook";

describe("the webhook circuit breaker", () => {
  let env: TestEnv;
  let app: Express;
  let worker: DeliveryWorker;
  const receiver = new FakeWebhook();

  beforeAll(async () => {
    env = await createTestEnv({
      RETRY_BASE_DELAY_MS: "100",
      MAX_RETRY_ATTEMPTS: "20",
      // The webhook worker's own threshold applies, not the general one.
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000",
      WEBHOOK_BREAKER_FAILURE_THRESHOLD: "3",
      CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "3000ms",
      // One send at a time, so that none is still in flight when the breaker opens.
      WEBHOOK_CONCURRENCY: "1",
    });
    await receiver.start();
    ({ app } = await startApi(env));
    ({ worker } = await startWebhookWorker(env));
    await createHookTemplate(app, "ping", "webhook", '{"ping": "{{n}}"}', ["n"]);
  });

  afterAll(async () => {
    await env.cleanup();
    await receiver.stop();
  });

  it("opens after WEBHOOK_BREAKER_FAILURE_THRESHOLD consecutive failures, stops consuming while open, tries one when half-open, and closes when it succeeds", async () => {
    const breaker = worker.breakers.get("webhook")!;
    const states: string[] = [];
    for (const state of ["open", "half_open", "closed"]) breaker.on(state, () => states.push(state));

    receiver.fail({ mode: "status", status: 503, body: "down" });
    const users = await Promise.all(Array.from({ length: 6 }, (_, i) => createHookUser(env, app, { webhook_url: receiver.url(`/u${i}`) })));
    const requestIds = await Promise.all(users.map((u, i) => sendTo(app, u.id, "webhook", "ping", { n: i })));

    await waitFor(() => breaker.state === "open", { what: "the breaker to open" });
    expect(worker.health()).toMatchObject({ consuming: false, breakers: { webhook: "open" } });
    // Sends that took their permit before the breaker opened may still be finishing: let them.
    await waitFor(() => worker.health().in_flight === 0, { what: "in-flight sends to settle" });
    const whenOpened = receiver.requests.length;
    expect(whenOpened).toBeGreaterThanOrEqual(3);

    // While open nothing is posted: the messages wait in webhook.queue, not burning retries.
    await waitFor(async () => (await env.queueDepth("webhook.queue")) >= 1, { what: "work waiting in webhook.queue" });
    await sleep(300);
    expect(receiver.requests.length).toBe(whenOpened);
    expect(states).toEqual(["open"]);

    // Half-open with the receiver still failing: exactly one trial, and the breaker opens again.
    await waitFor(() => receiver.requests.length > whenOpened, { timeoutMs: 10_000, what: "the half-open trial" });
    await waitFor(() => breaker.state === "open", { what: "the breaker to reopen" });
    expect(receiver.requests.length).toBe(whenOpened + 1);

    // The receiver recovers: the next trial succeeds, the breaker closes, every webhook goes out once.
    receiver.clearFaults();
    await waitFor(() => breaker.state === "closed", { timeoutMs: 10_000, what: "the breaker to close" });
    await waitFor(() => users.every((_, i) => receiver.received.some((r) => r.path === `/u${i}`)), { timeoutMs: 10_000, what: "every webhook" });
    users.forEach((_, i) => expect(receiver.received.filter((r) => r.path === `/u${i}`)).toHaveLength(1));
    expect(states).toEqual(["open", "half_open", "open", "half_open", "closed"]);
    expect(worker.health()).toMatchObject({ consuming: true, breakers: { webhook: "closed", slack: "closed" } });

    for (const id of requestIds) {
      const s = await waitFor(async () => {
        const v = await statusOf(app, id);
        return v.deliveries[0]?.status === "sent" ? v : undefined;
      });
      expect(s.deliveries[0]!.attempts).toBeLessThanOrEqual(3);
    }
    expect(await env.db.prisma.deadLetter.count()).toBe(0);
  });
});
