import request from "supertest";
import type { Express } from "express";
import { FakeSmtp, TcpProxy, createTestEnv, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi, startEmailWorker, statusOf, emailWorld } from "../support/system";

describe("RabbitMQ away from the gateway", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let proxy: TcpProxy;

  beforeAll(async () => {
    env = await createTestEnv();
    smtp = new FakeSmtp();
    await smtp.start();
    const broker = new URL(env.config.rabbitmq.url);
    proxy = new TcpProxy(broker.hostname, Number(broker.port || 5672));
    await proxy.start();
    broker.hostname = "127.0.0.1";
    broker.port = String(proxy.port);
    // The gateway reaches RabbitMQ through the proxy; the worker directly.
    ({ app } = await startApi(env, { RABBITMQ_URL: broker.toString() }));
    await startEmailWorker(env, smtp.port);
    await createWelcomeTemplate(app);
  });

  afterAll(async () => {
    await proxy.stop();
    await env.cleanup();
    await smtp.stop();
  });

  it("accepts while the broker is down, keeps the messages in the outbox, and sends them when it is back", async () => {
    await waitFor(async () => (await request(app).get("/health/ready")).status === 200, { what: "the gateway to be ready" });
    const users = await Promise.all(Array.from({ length: 5 }, () => createUser(app)));
    await proxy.stop();
    await waitFor(async () => (await request(app).get("/health/ready")).status === 503, { what: "readiness to report the broker down" });
    const ready = await request(app).get("/health/ready");
    expect(ready.body.data.checks).toMatchObject({ postgres: "ok", redis: "ok", rabbitmq: "not connected" });

    const accepted = await Promise.all(users.map((u) => sendEmail(app, u.id)));
    expect(accepted.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(await env.db.prisma.outboxMessage.count()).toBe(5);
    await sleep(500);
    expect(smtp.received).toHaveLength(0);

    await proxy.start();
    await waitFor(() => users.every((u) => smtp.received.some((m) => m.to === u.email)), { timeoutMs: 15_000, what: "every mail after the broker came back" });
    expect(smtp.received).toHaveLength(5);
    await waitFor(async () => (await env.db.prisma.outboxMessage.count()) === 0, { what: "the outbox to empty" });
    for (const r of accepted) expect((await statusOf(app, r.body.data.request_id)).status).toBe("sent");
  });

  it("survives the broker connection being cut (a broker restart) and goes on publishing", async () => {
    await proxy.stop();
    await proxy.start();
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    expect(res.status).toBe(202);
    await waitFor(() => smtp.received.some((m) => m.to === user.email), { timeoutMs: 15_000 });
  });
});

describe("PostgreSQL away from the gateway", () => {
  let env: TestEnv;
  let app: Express;
  let proxy: TcpProxy;

  beforeAll(async () => {
    env = await createTestEnv();
    const db = new URL(env.config.database.url);
    proxy = new TcpProxy(db.hostname, Number(db.port || 5432));
    await proxy.start();
    db.hostname = "127.0.0.1";
    db.port = String(proxy.port);
    ({ app } = await startApi(env, { DATABASE_URL: db.toString() }));
  });

  afterAll(async () => {
    await proxy.stop();
    await env.cleanup();
  });

  it("answers 503 service_unavailable, not 500 and not a hang, and recovers", async () => {
    await createWelcomeTemplate(app);
    const user = await createUser(app);
    expect((await sendEmail(app, user.id)).status).toBe(202);
    await proxy.stop();
    const down = await sendEmail(app, user.id);
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe("service_unavailable");
    expect(JSON.stringify(down.body)).not.toMatch(/at .*\.ts/);
    expect((await request(app).get("/health/ready")).status).toBe(503);
    await proxy.start();
    await waitFor(async () => (await sendEmail(app, user.id)).status === 202, { what: "sending to work again" });
    expect(await env.db.prisma.notificationRequest.count()).toBe(2);
  });
});

describe("graceful shutdown of a worker", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;

  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({}, { worker: false }));
  });

  afterAll(() => cleanup());

  it("stops taking messages, finishes the send in flight, records it, then closes", async () => {
    const { runtime } = await startEmailWorker(env, smtp.port);
    smtp.fail({ mode: "delay", ms: 800 }, 1);
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    await waitFor(() => smtp.attempts.length === 1, { what: "the send to start" });
    await runtime.releasers.releaseAll();
    // By the time shutdown returns, the mail is out and recorded, and nothing is left to redeliver.
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
    expect((await statusOf(app, res.body.data.request_id)).deliveries[0]).toMatchObject({ status: "sent", attempts: 1 });
    expect(await env.queueDepth("email.queue")).toBe(0);
    await request(app).get("/health").set(AUTH);
  });
});
