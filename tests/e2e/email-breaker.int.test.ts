import type { Express } from "express";
import { FakeSmtp, sleep, waitFor, type TestEnv } from "@herald/testkit";
import type { DeliveryWorker } from "@herald/delivery";
import { createUser, sendEmail, statusOf, emailWorld, smtpBreaker } from "../support/system";

describe("the SMTP circuit breaker", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let worker: DeliveryWorker;

  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const world = await emailWorld({
      RETRY_BASE_DELAY_MS: "100",
      MAX_RETRY_ATTEMPTS: "20",
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: "3",
      CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "3000ms",
    });
    ({ env, smtp, app, cleanup } = world);
    worker = world.worker!;
  });

  afterAll(() => cleanup());

  it("opens after N consecutive failures, stops consuming while open, lets one trial through when half-open, and closes when it succeeds", async () => {
    const breaker = smtpBreaker(worker, smtp.port);
    const states: string[] = [];
    for (const state of ["open", "half_open", "closed"]) breaker.on(state, () => states.push(state));

    smtp.fail({ mode: "reply", code: 421, message: "overloaded" });
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(app)));
    const requests = await Promise.all(users.map((u) => sendEmail(app, u.id)));
    expect(requests.every((r) => r.status === 202)).toBe(true);

    await waitFor(() => breaker.state === "open", { what: "the breaker to open" });
    expect(worker.health()).toMatchObject({ consuming: false, breakers: { [`smtp:127.0.0.1:${smtp.port}`]: "open" } });
    // Sends that took their permit before the breaker opened may still be finishing: let them.
    await waitFor(() => worker.health().in_flight === 0, { what: "in-flight sends to settle" });
    const failuresWhenOpened = smtp.attempts.length;
    expect(failuresWhenOpened).toBeGreaterThanOrEqual(3);

    // While open nothing reaches SMTP: the retried messages wait in the work queue, unretried.
    await waitFor(async () => (await env.queueDepth("email.queue")) >= 1, { what: "work waiting in email.queue" });
    await sleep(300);
    expect(smtp.attempts.length).toBe(failuresWhenOpened);
    expect(states).toEqual(["open"]);

    // Half-open with the server still failing: exactly one trial, and the breaker opens again.
    await waitFor(() => smtp.attempts.length > failuresWhenOpened, { timeoutMs: 10_000, what: "the half-open trial" });
    await waitFor(() => breaker.state === "open", { what: "the breaker to reopen" });
    expect(smtp.attempts.length).toBe(failuresWhenOpened + 1);

    // The server recovers: the next trial succeeds, the breaker closes, everything goes out once.
    smtp.clearFaults();
    await waitFor(() => breaker.state === "closed", { timeoutMs: 10_000, what: "the breaker to close" });
    await waitFor(() => users.every((u) => smtp.received.some((m) => m.to === u.email)), { timeoutMs: 10_000, what: "every mail" });
    for (const u of users) expect(smtp.received.filter((m) => m.to === u.email)).toHaveLength(1);
    expect(states).toEqual(["open", "half_open", "open", "half_open", "closed"]);
    expect(worker.health()).toMatchObject({ consuming: true, breakers: { [`smtp:127.0.0.1:${smtp.port}`]: "closed" } });

    // No message burned its retries on the open breaker: far fewer attempts than the 20 allowed.
    for (const r of requests) {
      const s = await waitFor(async () => {
        const v = await statusOf(app, r.body.data.request_id);
        return v.deliveries[0]?.status === "sent" ? v : undefined;
      });
      expect(s.deliveries[0]!.attempts).toBeLessThanOrEqual(3);
    }
    expect(await env.db.prisma.deadLetter.count()).toBe(0);
  });
});
