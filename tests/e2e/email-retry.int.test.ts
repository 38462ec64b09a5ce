import type { Express } from "express";
import { FakeSmtp, createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, createWelcomeTemplate, sendEmail, startApi, startEmailWorker, statusOf, emailWorld } from "../support/system";
import { drainQueue, header } from "../support/broker";

const BASE = 200;

describe("email retries and the dead-letter queue", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    // A high breaker threshold: these tests are about retries, the breaker has its own.
    ({ env, smtp, app, cleanup } = await emailWorld({ RETRY_BASE_DELAY_MS: String(BASE), MAX_RETRY_ATTEMPTS: "3", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000" }));
  });

  afterEach(() => smtp.clearFaults());

  afterAll(() => cleanup());

  async function finalStatus(requestId: string, wanted: string) {
    return waitFor(async () => {
      const s = await statusOf(app, requestId);
      return s.deliveries[0]?.status === wanted ? s : undefined;
    }, { timeoutMs: 15_000, what: `status ${wanted}` });
  }

  it("retries a 4xx reply after the base delay, then twice the base delay, and delivers", async () => {
    smtp.fail({ mode: "reply", code: 451, message: "try again later" }, 2);
    const before = smtp.attempts.length;
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const status = await finalStatus(res.body.data.request_id, "sent");
    expect(status.deliveries[0]).toMatchObject({ status: "sent", attempts: 3 });
    expect(status.deliveries[0]!.errors.map((e) => e.error_code)).toEqual(["smtp_451", "smtp_451"]);
    const times = smtp.attempts.slice(before);
    expect(times).toHaveLength(3);
    const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
    expect(gaps[0]).toBeGreaterThanOrEqual(BASE - 20);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * BASE - 20);
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
  });

  it("after MAX_RETRY_ATTEMPTS retries (2x, 4x, 8x ... the base) dead-letters with the last error and attempt count", async () => {
    smtp.fail({ mode: "reply", code: 421, message: "service not available" });
    const before = smtp.attempts.length;
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    const status = await finalStatus(requestId, "dead_lettered");
    expect(status.deliveries[0]).toMatchObject({ attempts: 4, last_error_code: "smtp_421" });
    expect(status.deliveries[0]!.errors).toHaveLength(4);

    const times = smtp.attempts.slice(before);
    expect(times).toHaveLength(4);
    [BASE, 2 * BASE, 4 * BASE].forEach((delay, i) => {
      const gap = times[i + 1]! - times[i]!;
      // At least the delay (a busy machine may add to it; that is not measured here).
      expect(gap).toBeGreaterThanOrEqual(delay - 20);
    });

    const dead = await waitFor(async () => {
      const messages = await drainQueue(env.broker, "failed.queue");
      return messages.length > 0 ? messages : undefined;
    });
    expect(dead).toHaveLength(1);
    expect(header(dead[0]!, "x-request-id")).toBe(requestId);
    expect(header(dead[0]!, "x-attempt")).toBe("4");
    expect(header(dead[0]!, "x-error-code")).toBe("smtp_421");
    expect(header(dead[0]!, "x-last-error")).toContain("service not available");
    expect(JSON.parse(dead[0]!.content.toString())).toMatchObject({ request_id: requestId, channel: "email" });
    const row = await env.db.prisma.deadLetter.findFirstOrThrow({ where: { requestId } });
    expect(row).toMatchObject({ errorCode: "smtp_421", attempts: 4, channel: "email" });
  });

  it("treats a 5xx reply as permanent: no retries, straight to failed.queue", async () => {
    smtp.fail({ mode: "reply", code: 550, message: "mailbox unavailable" }, 1);
    const before = smtp.attempts.length;
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    const status = await finalStatus(requestId, "dead_lettered");
    expect(status.deliveries[0]).toMatchObject({ attempts: 1, last_error_code: "smtp_550" });
    expect(smtp.attempts.length - before).toBe(1);
    const dead = await waitFor(async () => {
      const messages = (await drainQueue(env.broker, "failed.queue")).filter((m) => header(m, "x-request-id") === requestId);
      return messages.length > 0 ? messages : undefined;
    });
    expect(header(dead[0]!, "x-attempt")).toBe("1");
    expect(header(dead[0]!, "x-error-code")).toBe("smtp_550");
  });

  it("leaves nothing waiting: delay queues and the work queue are empty afterwards", async () => {
    for (const queue of ["email.queue", `email.queue.retry.${BASE}ms`, `email.queue.retry.${2 * BASE}ms`, `email.queue.retry.${4 * BASE}ms`]) {
      expect(await env.queueDepth(queue)).toBe(0);
    }
  });
});

describe("email to an SMTP server that refuses connections", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_BASE_DELAY_MS: "100", MAX_RETRY_ATTEMPTS: "2", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "1000" });
    ({ app } = await startApi(env));
    const { closedPort } = await import("@herald/testkit");
    await startEmailWorker(env, await closedPort(), { SMTP_TIMEOUT: "2s" });
    await createWelcomeTemplate(app);
  });

  afterAll(() => env.cleanup());

  it("retries connection errors as retryable, then dead-letters them", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const status = await waitFor(async () => {
      const s = await statusOf(app, res.body.data.request_id);
      return s.deliveries[0]?.status === "dead_lettered" ? s : undefined;
    }, { timeoutMs: 15_000 });
    expect(status.deliveries[0]).toMatchObject({ attempts: 3, last_error_code: "smtp_connection_failed" });
  });
});
