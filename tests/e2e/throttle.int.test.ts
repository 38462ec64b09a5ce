import request from "supertest";
import type { Express } from "express";
import { waitFor } from "@herald/testkit";
import { emailWorld, startGateway, createMultiChannelTemplate } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startEmailWorker, statusOf } from "../support/system";

interface Answer {
  request_id: string;
  status: string;
  deliveries: { delivery_id: string; channel: string; status: string; reason?: string }[];
}

describe("throttle", () => {
  const w = emailWorld();
  let other: Express;

  beforeAll(async () => {
    await createWelcomeTemplate(w.app);
    await createMultiChannelTemplate(w.app, "both", ["email", "sms"]);
    await startEmailWorker(w.env, w.smtp.port);
    ({ app: other } = await startGateway(w.env));
  });

  it("sends exactly limit of a concurrent burst through two gateways; the rest are throttled (202, not sent)", async () => {
    const user = await createUser(w.app);
    const throttle = { limit: 3, window: "1h" };
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) => sendEmail(i % 2 === 0 ? w.app : other, user.id, { throttle, variables: { name: `b${i}` } })),
    );
    expect(burst.every((r) => r.status === 202)).toBe(true);
    const answers = burst.map((r) => r.body.data as Answer);
    const queued = answers.filter((a) => a.status === "queued");
    const throttled = answers.filter((a) => a.status === "throttled");
    expect(queued).toHaveLength(3);
    expect(throttled).toHaveLength(21);
    for (const a of throttled) expect(a.deliveries[0]).toMatchObject({ status: "throttled", reason: expect.stringContaining("throttled: 3 per 3600 s") });

    await waitFor(async () => (await w.env.db.prisma.delivery.count({ where: { id: { in: queued.map((a) => a.deliveries[0]!.delivery_id) }, status: "sent" } })) === 3, {
      what: "the three sent",
    });
    const status = await statusOf(w.app, throttled[0]!.request_id);
    expect(status).toMatchObject({ status: "throttled", deliveries: [{ status: "throttled", last_error_code: "throttled", attempts: 0 }] });
    // Nothing else goes out: the throttled ones have no outbox message and are never claimed.
    await waitFor(async () => (await w.env.db.prisma.outboxMessage.count()) === 0, { what: "the outbox to drain" });
    expect(await w.env.queueDepth("email.queue")).toBe(0);
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(3);
  });

  it("holds within one batched write too (send-bulk), per channel, and per key", async () => {
    const user = await createUser(w.app, { phone: "+14155550142" });
    const bulk = await request(w.app)
      .post("/notifications/send-bulk")
      .set(AUTH)
      .send({
        notifications: Array.from({ length: 8 }, (_, i) => ({
          user_id: user.id,
          channels: ["email", "sms"],
          template_id: "both",
          variables: { name: `k${i}` },
          throttle: { limit: 2, window: "1h", key: "digest-free" },
        })),
      });
    expect(bulk.status).toBe(202);
    const items = (bulk.body.data as { data: Answer }[]).map((r) => r.data);
    for (const channel of ["email", "sms"]) {
      const statuses = items.map((a) => a.deliveries.find((d) => d.channel === channel)!.status);
      expect(statuses.filter((s) => s === "queued")).toHaveLength(2);
      expect(statuses.filter((s) => s === "throttled")).toHaveLength(6);
      // In order: the first two of the bulk went out.
      expect(statuses.slice(0, 2)).toEqual(["queued", "queued"]);
    }
    // Another key has a limit of its own.
    const otherKey = await sendEmail(w.app, user.id, { throttle: { limit: 2, window: "1h", key: "another" } });
    expect(otherKey.body.data.status).toBe("queued");
  });

  it("does not count throttled sends; a new window opens when the last ends; an idempotent replay takes nothing", async () => {
    const user = await createUser(w.app);
    const throttle = { limit: 1, window: "2s", key: "short" };
    const first = await sendEmail(w.app, user.id, { throttle, idempotency_key: "throttle-first" });
    expect(first.body.data.status).toBe("queued");
    const replayed = await sendEmail(w.app, user.id, { throttle, idempotency_key: "throttle-first" });
    expect(replayed.headers["idempotent-replayed"]).toBe("true");
    expect(replayed.body.data).toEqual(first.body.data);
    const second = await sendEmail(w.app, user.id, { throttle, idempotency_key: "throttle-second" });
    expect(second.body.data.status).toBe("throttled");
    // The throttled answer is what the key replays.
    expect((await sendEmail(w.app, user.id, { throttle, idempotency_key: "throttle-second" })).body.data).toEqual(second.body.data);

    const row = await w.env.db.prisma.throttleWindow.findFirstOrThrow({ where: { userId: user.id, throttleKey: "short" } });
    expect(row.count).toBe(1);
    await waitFor(() => Date.now() > row.endsAt.getTime() + 100, { what: "the window to end" });
    const third = await sendEmail(w.app, user.id, { throttle });
    expect(third.body.data.status).toBe("queued");
  });

  it("applies a routing rule's throttle to its events, and counts throttled deliveries in /metrics", async () => {
    const rule = await request(w.app)
      .post("/routing-rules")
      .set(AUTH)
      .send({ type: "order.updated", template_id: "welcome_email", channels: ["email"], throttle: { limit: 1, window: "1h" } });
    expect(rule.status).toBe(201);
    expect(rule.body.data.throttle).toEqual({ limit: 1, window: 3600 });
    const user = await createUser(w.app);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await request(w.app).post("/events").set(AUTH).send({ type: "order.updated", user_id: user.id, data: { name: `e${i}` } });
      expect(res.status).toBe(202);
      statuses.push(res.body.data.status as string);
    }
    expect(statuses).toEqual(["queued", "throttled", "throttled"]);
    const metrics = await request(w.app).get("/metrics");
    const line = metrics.text.split("\n").find((l) => l.startsWith('accepted_deliveries_total{channel="email",status="throttled"'));
    expect(Number(line?.split(" ")[1])).toBeGreaterThanOrEqual(2);
  });

  it("refuses a throttle that does not parse", async () => {
    const user = await createUser(w.app);
    for (const throttle of [{ limit: 0, window: "1h" }, { limit: 2, window: "forever" }, { limit: 2 }, { limit: 2, window: "1h", extra: true }]) {
      const res = await sendEmail(w.app, user.id, { throttle });
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toMatch(/^throttle/);
    }
  });
});
