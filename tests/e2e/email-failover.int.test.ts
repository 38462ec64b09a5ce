import type { Express } from "express";
import type { DeliveryWorker } from "@herald/delivery";
import { FakeSmtp, createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, createWelcomeTemplate, sendEmail, startApi, startEmailWorker, statusOf } from "../support/system";

/**
 * Two SMTP relays (SMTP_URLS). The first refuses connections: each mail fails over to the second
 * at once, within the same attempt; once the first's breaker is open, mail goes straight to the
 * second. Retries wait a minute here, so a mail that waited for a backoff could not arrive in time.
 */
describe("SMTP failover between two relays", () => {
  let env: TestEnv;
  let first: FakeSmtp;
  let second: FakeSmtp;
  let app: Express;
  let worker: DeliveryWorker;
  const relay = (smtp: FakeSmtp) => `smtp:127.0.0.1:${smtp.port}`;

  beforeAll(async () => {
    env = await createTestEnv({ RETRY_BASE_DELAY_MS: "60000", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "3", CIRCUIT_BREAKER_RECOVERY_TIMEOUT: "2s" });
    first = new FakeSmtp();
    second = new FakeSmtp();
    await first.start();
    await second.start();
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
    ({ worker } = await startEmailWorker(env, first.port, { SMTP_URLS: `smtp://127.0.0.1:${first.port},smtp://127.0.0.1:${second.port}` }));
  });

  afterAll(async () => {
    await env.cleanup();
    await first.stop();
    await second.stop();
  });

  it("delivers through the second when the first refuses, then skips the first while its breaker is open, and goes back when it recovers", async () => {
    expect(worker.health().providers).toEqual({ email: [relay(first), relay(second)] });
    const breaker = worker.breakers.get(relay(first))!;
    let opened = 0;
    breaker.on("open", () => (opened += 1));
    await first.outage("refuse");
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(app)));
    const requests = await Promise.all(users.map((u) => sendEmail(app, u.id)));
    await waitFor(() => users.every((u) => second.received.some((m) => m.to === u.email)), { what: "every mail through the second relay" });
    const finals = await waitFor(async () => {
      const all = await Promise.all(requests.map((r) => statusOf(app, r.body.data.request_id)));
      return all.every((s) => s.status === "sent") ? all : undefined;
    });
    for (const s of finals) {
      const d = s.deliveries[0]!;
      // One attempt, sent by the second relay; a failed call on the first shows as its error (or,
      // for a call whose permit came just before the breaker opened, the breaker refusing it).
      expect(d).toMatchObject({ status: "sent", attempts: 1, provider: relay(second) });
      for (const e of d.errors) {
        expect(e).toMatchObject({ attempt: 1, provider: relay(first) });
        expect(["smtp_connection_failed", "breaker_open"]).toContain(e.error_code);
      }
    }
    const refused = finals.flatMap((s) => s.deliveries[0]!.errors).filter((e) => e.error_code === "smtp_connection_failed").length;
    expect(refused).toBeGreaterThanOrEqual(3);
    // It opened; on a slow machine its 2 s recovery may have run out since (half-open), never closed.
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(breaker.state).not.toBe("closed");
    expect(worker.health()).toMatchObject({ consuming: true });

    // While the first's breaker is open, mail goes to the second without trying the first (unless
    // its recovery time ran out meanwhile on a slow machine, and this mail was its failed trial).
    let trials = 0;
    const onHalfOpen = () => (trials += 1);
    breaker.on("half_open", onHalfOpen);
    const more = await createUser(app);
    const next = await sendEmail(app, more.id);
    const direct = await waitFor(async () => {
      const s = await statusOf(app, next.body.data.request_id);
      return s.status === "sent" ? s : undefined;
    });
    breaker.off("half_open", onHalfOpen);
    expect(direct.deliveries[0]!.provider).toBe(relay(second));
    expect(direct.deliveries[0]!.errors.length).toBeLessThanOrEqual(trials > 0 ? 1 : 0);

    // The first recovers: its half-open trial succeeds and mail goes to it again.
    await first.outage(undefined);
    const later = new Set<string>();
    await waitFor(
      async () => {
        if (first.received.some((m) => later.has(m.to))) return true;
        const u = await createUser(app);
        later.add(u.email);
        await sendEmail(app, u.id);
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 300, what: "mail through the first relay again" },
    );
    expect(breaker.state).toBe("closed");
    for (const u of users) expect([...first.received, ...second.received].filter((m) => m.to === u.email)).toHaveLength(1);
  });
});
