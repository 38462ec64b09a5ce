import request from "supertest";
import { ConfirmPublisher, OutboxPublisher } from "@herald/messaging";
import { queueOf } from "@herald/channels";
import { DeliveryScheduler } from "@herald/notifications";
import { sleep, waitFor } from "@herald/testkit";
import { drainQueue } from "../support/broker";
import { emailWorld, rowCounts, startGateway } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startEmailWorker, statusOf } from "../support/system";

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("send_at: scheduled sends wait in PostgreSQL and go out when due", () => {
  const w = emailWorld({ SCHEDULER_INTERVAL: "200ms", RATE_LIMIT_PER_USER: "1000" });
  let stopWorker: () => Promise<void>;
  beforeAll(() => createWelcomeTemplate(w.app));

  it("400 naming send_at for an invalid date, one without an offset, one in the past or more than 30 days ahead; nothing written", async () => {
    const user = await createUser(w.app);
    const bad = ["tomorrow", "2026-13-01T09:00:00Z", "2031-01-01T09:00:00", new Date(Date.now() - 60_000).toISOString(), inMs(31 * 86_400_000)];
    for (const sendAt of bad) {
      const res = await sendEmail(w.app, user.id, { send_at: sendAt });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(["send_at"]);
    }
    const past = await sendEmail(w.app, user.id, { send_at: new Date(Date.now() - 60_000).toISOString() });
    expect(past.body.error.details[0].message).toBe("is in the past");
    const far = await sendEmail(w.app, user.id, { send_at: inMs(31 * 86_400_000) });
    expect(far.body.error.details[0].message).toBe("is more than 30 days ahead");
    expect(await rowCounts(w.env)).toEqual({ requests: 0, deliveries: 0, outbox: 0, keys: 0 });

    // 29 days ahead, with an offset other than Z, is fine: scheduled, not queued.
    const sendAt = new Date(Date.now() + 29 * 86_400_000);
    const withOffset = sendAt.toISOString().replace("Z", "+00:00");
    const ok = await sendEmail(w.app, user.id, { send_at: withOffset });
    expect(ok.status).toBe(202);
    expect(ok.body.data).toMatchObject({ status: "scheduled", deliveries: [{ status: "scheduled", release_at: sendAt.toISOString() }] });
    expect(await rowCounts(w.env)).toEqual({ requests: 1, deliveries: 1, outbox: 0, keys: 0 });
    await request(w.app).post(`/notifications/${ok.body.data.request_id}/cancel`).set(AUTH).expect(200);
  });

  it("keeps a future send as `scheduled` with no message anywhere, then the scheduler sends it at send_at", async () => {
    const worker = await startEmailWorker(w.env, w.smtp.port);
    stopWorker = () => worker.runtime.releasers.releaseAll();
    const user = await createUser(w.app);
    const sendAt = new Date(Date.now() + 2000);
    const res = await sendEmail(w.app, user.id, { send_at: sendAt.toISOString() });
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe("scheduled");
    const requestId = res.body.data.request_id as string;

    const before = await statusOf(w.app, requestId);
    expect(before.status).toBe("scheduled");
    const row = await w.env.db.prisma.delivery.findFirstOrThrow({ where: { requestId } });
    expect(row.releaseAt?.toISOString()).toBe(sendAt.toISOString());
    expect(await w.env.db.prisma.outboxMessage.count()).toBe(0);
    expect(await w.env.queueDepth(queueOf("email"))).toBe(0);
    expect((await w.env.db.prisma.notificationRequest.findUniqueOrThrow({ where: { id: requestId } })).sendAt?.toISOString()).toBe(sendAt.toISOString());

    const mail = await waitFor(() => w.smtp.received.find((m) => m.to === user.email), { what: "the scheduled mail", timeoutMs: 15_000 });
    expect(mail.at).toBeGreaterThanOrEqual(sendAt.getTime());
    const after = await waitFor(async () => {
      const s = await statusOf(w.app, requestId);
      return s.status === "sent" ? s : undefined;
    });
    expect(after.deliveries[0]).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("survives a w.gateway restart: a scheduled send accepted by one w.gateway is sent by the next", async () => {
    const user = await createUser(w.app);
    const sendAt = new Date(Date.now() + 1500);
    const res = await sendEmail(w.app, user.id, { send_at: sendAt.toISOString() });
    expect(res.status).toBe(202);
    const requestId = res.body.data.request_id as string;

    const { userServiceUrl, templateServiceUrl } = w.runtime.config.services;
    await w.runtime.releasers.releaseAll();
    await sleep(Math.max(0, sendAt.getTime() - Date.now()) + 1000);
    // Due, but nobody is running a scheduler: still scheduled, nothing sent or queued.
    const waiting = await w.env.db.prisma.delivery.findFirstOrThrow({ where: { requestId } });
    expect(waiting.status).toBe("scheduled");
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);

    Object.assign(w, await startGateway(w.env, { USER_SERVICE_URL: userServiceUrl, TEMPLATE_SERVICE_URL: templateServiceUrl }));
    await waitFor(() => w.smtp.received.find((m) => m.to === user.email), { what: "the mail after the restart", timeoutMs: 15_000 });
    await waitFor(async () => (await statusOf(w.app, requestId)).status === "sent");
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
  });

  it("releases each due delivery exactly once when several schedulers run at the same moment", async () => {
    await w.gateway.scheduler.stop();
    await stopWorker();
    const users = await Promise.all(Array.from({ length: 3 }, () => createUser(w.app)));
    const sendAt = inMs(1500);
    const bulk = await request(w.app)
      .post("/notifications/send-bulk")
      .set(AUTH)
      .send({
        notifications: Array.from({ length: 120 }, (_, i) => ({
          user_id: users[i % 3]!.id,
          channel: "email",
          template_id: "welcome_email",
          variables: { name: `n${i}` },
          send_at: sendAt,
        })),
      });
    expect(bulk.status).toBe(202);
    const ids = new Set((bulk.body.data as { data: { deliveries: { delivery_id: string }[] } }[]).map((r) => r.data.deliveries[0]!.delivery_id));
    expect(ids.size).toBe(120);

    // Two more w.gateway processes' worth of schedulers, each releasing 7 at a time, racing.
    const schedulers = await Promise.all(
      ["scheduler-a", "scheduler-b"].map(async (name) => {
        const runtime = await w.env.openRuntime(name);
        const publisher = new ConfirmPublisher(runtime.amqp);
        await publisher.start();
        runtime.releasers.add("publisher", () => publisher.close());
        const outbox = new OutboxPublisher(runtime.db.pool, publisher, runtime.logger);
        return new DeliveryScheduler(runtime.db.pool, outbox, runtime.logger, { intervalMs: 1000, batchSize: 7 });
      }),
    );
    expect(await Promise.all(schedulers.map((s) => s.runOnce()))).toEqual([0, 0]);
    await sleep(Math.max(0, new Date(sendAt).getTime() - Date.now()) + 300);

    const released = await Promise.all(schedulers.map((s) => s.runOnce()));
    expect(released[0]! + released[1]!).toBe(120);
    expect(await w.env.db.prisma.delivery.count({ where: { id: { in: [...ids] }, status: "queued" } })).toBe(120);
    await waitFor(async () => (await w.env.db.prisma.outboxMessage.count()) === 0, { what: "the outbox to empty" });
    const messages = await drainQueue(w.env.broker, queueOf("email"));
    const published = messages.map((m) => (JSON.parse(m.content.toString()) as { delivery_id: string }).delivery_id);
    expect(published).toHaveLength(120);
    expect(new Set(published)).toEqual(ids);
    expect(await Promise.all(schedulers.map((s) => s.runOnce()))).toEqual([0, 0]);
  });
});
