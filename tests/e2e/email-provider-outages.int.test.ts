import type { Express } from "express";
import type { DeliveryWorker } from "@herald/delivery";
import { FakeSmtp, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, sendEmail, statusOf, emailWorld, smtpBreaker } from "../support/system";

/**
 * The SMTP provider away for longer than the breaker's recovery time, in the three ways real
 * servers go away: refusing connections, accepting TCP and never greeting, hanging mid-DATA.
 * Each time the breaker opens, its half-open trials fail and open it again (at least three times),
 * then the server recovers: every mail is delivered exactly once, and none is dead-lettered
 * although the outage outlasts MAX_RETRY_ATTEMPTS retries (attempts while the provider was down
 * spend none of them), and no call or trial is left hanging.
 */
describe("the SMTP provider down for longer than the breaker's recovery time", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let worker: DeliveryWorker;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const world = await emailWorld({
      RETRY_BASE_DELAY_MS: "200",
      MAX_RETRY_ATTEMPTS: "2",
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: "3",
      CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "1500ms",
      SMTP_TIMEOUT: "1s",
    });
    ({ env, smtp, app, cleanup } = world);
    worker = world.worker!;
  });

  afterAll(() => cleanup());

  async function outage(name: string, start: () => Promise<void> | void, end: () => Promise<void> | void): Promise<void> {
    const breaker = smtpBreaker(worker, smtp.port);
    let opened = 0;
    const onOpen = () => (opened += 1);
    breaker.on("open", onOpen);
    let ended = false;
    try {
      await start();
      const users = await Promise.all(Array.from({ length: 10 }, () => createUser(app)));
      const requests = await Promise.all(users.map((u) => sendEmail(app, u.id)));
      expect(requests.map((r) => r.status)).toEqual(Array(10).fill(202));
      // Opened, then at least three half-open trials failed and opened it again.
      await waitFor(() => opened >= 4, { timeoutMs: 60_000, what: `${name}: the breaker to open four times` });
      await end();
      ended = true;
      await waitFor(() => users.every((u) => smtp.received.some((m) => m.to === u.email)), { timeoutMs: 30_000, what: `${name}: every mail after recovery` });
      for (const u of users) expect(smtp.received.filter((m) => m.to === u.email)).toHaveLength(1);
      const finals = await Promise.all(requests.map((r) => statusOf(app, r.body.data.request_id)));
      await waitFor(async () => (await Promise.all(requests.map((r) => statusOf(app, r.body.data.request_id)))).every((s) => s.status === "sent"), {
        what: `${name}: every delivery recorded sent`,
      });
      expect(finals.some((s) => s.deliveries[0]!.status === "dead_lettered")).toBe(false);
      expect(await env.db.prisma.deadLetter.count()).toBe(0);
      await waitFor(() => breaker.state === "closed" && worker.health().in_flight === 0, { what: `${name}: the breaker closed, nothing held` });
      expect(worker.health()).toMatchObject({ consuming: true, in_flight: 0 });
    } finally {
      breaker.off("open", onOpen);
      if (!ended) await end();
    }
  }

  it("refusing connections", () => outage("refused", () => smtp.outage("refuse"), () => smtp.outage(undefined)));

  it("accepting TCP and never greeting", () => outage("silent", () => smtp.outage("silent"), () => smtp.outage(undefined)));

  it("hanging mid-DATA", () =>
    outage(
      "hung",
      () => smtp.fail({ mode: "hang" }),
      () => smtp.clearFaults(),
    ));
});
