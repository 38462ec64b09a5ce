import type { Express } from "express";
import type { DeliveryWorker } from "@herald/delivery";
import { FakeSmtp, TcpProxy, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, sendEmail, startEmailWorker, statusOf, emailWorld } from "../support/system";

/**
 * PostgreSQL goes away from a worker while mails are on the wire: the SMTP server accepts them,
 * and the worker cannot record it. The outcome is kept (the message unacked) however long
 * PostgreSQL is away, the worker takes no new work meanwhile, and when PostgreSQL is back every
 * delivery ends `sent`, once, never interrupted or dead-lettered.
 */
describe("PostgreSQL away from an email worker with mails on the wire", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let proxy: TcpProxy;
  let worker: DeliveryWorker;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({ WORKER_DEAD_AFTER: "2s", WORKER_HEARTBEAT: "300ms" }, { worker: false }));
    const db = new URL(env.config.database.url);
    proxy = new TcpProxy(db.hostname, Number(db.port || 5432));
    await proxy.start();
    db.hostname = "127.0.0.1";
    db.port = String(proxy.port);
    ({ worker } = await startEmailWorker(env, smtp.port, { DATABASE_URL: db.toString() }));
  });

  afterAll(async () => {
    await proxy.start().catch(() => undefined);
    await cleanup();
    await proxy.stop();
  });

  it("keeps the outcomes until PostgreSQL has them, takes no new work meanwhile, and records every mail sent once", async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => createUser(app)));
    // The first three mails take a while at the server: they are on the wire when PostgreSQL goes.
    smtp.fail({ mode: "delay", ms: 1500 }, 3);
    const requests = await Promise.all(users.map((u) => sendEmail(app, u.id)));
    await waitFor(() => smtp.attempts.length >= 3, { what: "three mails on the wire" });
    await proxy.stop();

    // The server accepts them; the worker cannot record it, keeps the outcome and holds its consumer.
    await waitFor(() => smtp.received.length >= 3, { what: "the server to accept the mails on the wire" });
    await waitFor(() => Number(worker.health().outcomes_waiting_for_postgres) >= 1 && worker.health().consuming === false, {
      what: "the worker to hold the outcomes and stop consuming",
    });
    expect(worker.health().held_for).toContain("postgres");
    // Longer than the old code's ~6 s of tries before it gave up and requeued.
    await sleep(8000);
    expect(Number(worker.health().outcomes_waiting_for_postgres)).toBeGreaterThanOrEqual(1);
    const receivedWhileDown = smtp.received.length;

    await proxy.start();
    const finals = await waitFor(
      async () => {
        const all = await Promise.all(requests.map((r) => statusOf(app, r.body.data.request_id)));
        return all.every((s) => s.status === "sent") ? all : undefined;
      },
      { timeoutMs: 30_000, what: "every delivery sent" },
    );
    for (const s of finals) expect(s.deliveries[0]).toMatchObject({ status: "sent", attempts: 1, last_error_code: null });
    for (const u of users) expect(smtp.received.filter((m) => m.to === u.email)).toHaveLength(1);
    expect(receivedWhileDown).toBeLessThan(12);
    expect(await env.db.prisma.deadLetter.count()).toBe(0);
    await waitFor(() => worker.health().consuming === true, { what: "the worker to consume again" });
  });
});
