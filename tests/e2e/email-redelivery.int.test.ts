import type { Express } from "express";
import { deliveryOutgoing } from "@herald/messaging";
import { FakeSmtp, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, sendEmail, statusOf, emailWorld } from "../support/system";
import { drainQueue, header, publishRaw } from "../support/broker";

describe("messages the worker must not send twice, or cannot process", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;

  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({ RETRY_BASE_DELAY_MS: "100", DELIVERY_LEASE: "1s" }));
  });

  afterAll(() => cleanup());

  async function publishDelivery(requestId: string) {
    const delivery = await env.db.prisma.delivery.findFirstOrThrow({ where: { requestId } });
    const message = deliveryOutgoing({ deliveryId: delivery.id, requestId, channel: "email", correlationId: "dup", priority: "normal" });
    await publishRaw(env.broker, "email.queue", JSON.stringify(message.body), message.headers);
    return delivery.id;
  }

  it("drops a second copy of a message whose delivery was already sent", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(app, requestId)).status === "sent");
    await publishDelivery(requestId);
    await publishDelivery(requestId);
    // A marker sent after the copies: once it arrives, the copies have been handled.
    const marker = await createUser(app);
    await sendEmail(app, marker.id);
    await waitFor(() => smtp.received.some((m) => m.to === marker.email));
    await sleep(200);
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
    expect((await statusOf(app, requestId)).deliveries[0]).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("dead-letters a delivery whose attempt was interrupted (claimed, never finished) once its lease ran out, without sending it", async () => {
    const user = await createUser(app);
    // Accept it while the worker cannot see it yet: the send goes in, then we fake a crash mid-attempt.
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(app, requestId)).status === "sent");
    await env.db.prisma.delivery.updateMany({
      where: { requestId },
      data: { status: "processing", claimedAt: new Date(Date.now() - 5000), sentAt: null },
    });
    await publishDelivery(requestId);
    const status = await waitFor(async () => {
      const s = await statusOf(app, requestId);
      return s.deliveries[0]?.status === "dead_lettered" ? s : undefined;
    });
    expect(status.deliveries[0]!.last_error_code).toBe("delivery_interrupted");
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
    const dead = await waitFor(async () => {
      const messages = await drainQueue(env.broker, "failed.queue");
      return messages.length > 0 ? messages : undefined;
    });
    expect(header(dead[0]!, "x-error-code")).toBe("delivery_interrupted");
  });

  it("waits for an attempt that is still within its lease instead of sending again", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(app, requestId)).status === "sent");
    // Another worker holds it right now (claimed just now), and will finish it.
    await env.db.prisma.delivery.updateMany({ where: { requestId }, data: { status: "processing", claimedAt: new Date() } });
    await publishDelivery(requestId);
    await sleep(300);
    await env.db.prisma.delivery.updateMany({ where: { requestId }, data: { status: "sent" } });
    // The copy comes back from the delay queue, finds it sent, and is dropped.
    await sleep(1200);
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
    expect((await statusOf(app, requestId)).deliveries[0]!.status).toBe("sent");
    expect(await env.queueDepth("email.queue")).toBe(0);
  });

  it("sends a message that is not JSON straight to failed.queue and goes on with the next", async () => {
    await publishRaw(env.broker, "email.queue", "{{ not json", { "x-correlation-id": "garbage-1" });
    await publishRaw(env.broker, "email.queue", JSON.stringify({ delivery_id: "nope" }), { "x-correlation-id": "garbage-2" });
    const user = await createUser(app);
    await sendEmail(app, user.id);
    await waitFor(() => smtp.received.some((m) => m.to === user.email));
    const dead = await waitFor(async () => {
      const messages = await drainQueue(env.broker, "failed.queue");
      return messages.length >= 2 ? messages : undefined;
    });
    const byCorrelation = Object.fromEntries(dead.map((m) => [header(m, "x-correlation-id"), m]));
    expect(header(byCorrelation["garbage-1"], "x-error-code")).toBe("unparseable_message");
    expect(header(byCorrelation["garbage-2"], "x-error-code")).toBe("unparseable_message");
    expect(byCorrelation["garbage-1"]!.content.toString()).toBe(JSON.stringify({ raw: "{{ not json" }));
    const rows = await env.db.prisma.deadLetter.findMany({ where: { errorCode: "unparseable_message" } });
    expect(rows).toHaveLength(2);
  });

  it("sends a message naming an unknown delivery straight to failed.queue", async () => {
    await publishRaw(
      env.broker,
      "email.queue",
      JSON.stringify({ delivery_id: "0190a0b0-0000-7000-8000-000000000000", request_id: "0190a0b0-0000-7000-8000-000000000001", channel: "email" }),
    );
    const row = await waitFor(() => env.db.prisma.deadLetter.findFirst({ where: { errorCode: "unknown_delivery" } }).then((r) => r ?? undefined));
    expect(row.deliveryId).toBeNull();
    await drainQueue(env.broker, "failed.queue");
  });
});
