import type { Express } from "express";
import { newId } from "@herald/db";
import { delayQueueName, deliveryOutgoing } from "@herald/messaging";
import { recheckDelayMs } from "@herald/runtime";
import { FakeSmtp, sleep, waitFor, type TestEnv } from "@herald/testkit";
import { createUser, sendEmail, startEmailWorker, statusOf, emailWorld } from "../support/system";
import { drainQueue, header, publishRaw } from "../support/broker";

describe("messages the worker must not send twice, or cannot process", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;

  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({ RETRY_BASE_DELAY_MS: "100", DELIVERY_LEASE: "1h", WORKER_DEAD_AFTER: "2s" }));
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

  /** Where a copy waits before it looks again at a delivery a live worker is sending. */
  const recheckQueue = () => delayQueueName("email.queue", recheckDelayMs(env.config));

  /** A worker instance row: one that still beats, or one that stopped beating long ago (killed). */
  async function instance(alive: boolean): Promise<string> {
    const id = newId();
    const at = alive ? new Date() : new Date(Date.now() - 60_000);
    await env.db.prisma.workerInstance.create({ data: { id, service: "email-worker", host: "elsewhere", pid: 1, startedAt: at, heartbeatAt: at } });
    return id;
  }

  it("sends again, once, an attempt a dead worker left on the wire (email's policy), with the same Message-ID", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(app, requestId)).status === "sent");
    // Fake a crash mid-call: the delivery claimed by an instance that stopped beating a minute ago.
    await env.db.prisma.delivery.updateMany({
      where: { requestId },
      data: { status: "processing", claimedAt: new Date(), claimedBy: await instance(false), sentAt: null },
    });
    await publishDelivery(requestId);
    await waitFor(() => smtp.received.filter((m) => m.to === user.email).length === 2, { what: "the resend" });
    const copies = smtp.received.filter((m) => m.to === user.email);
    // The receiver can tell the copy from a new mail: the Message-ID is the delivery's.
    expect(copies[0]!.messageId).toBe(copies[1]!.messageId);
    const status = await waitFor(async () => {
      const s = await statusOf(app, requestId);
      return s.deliveries[0]?.status === "sent" ? s : undefined;
    });
    expect(status.deliveries[0]).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("looks again later at an attempt a live worker is making, instead of sending it again", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(app, requestId)).status === "sent");
    // Another worker, alive, holds it right now (claimed just now), and will finish it.
    const live = await instance(true);
    await env.db.prisma.delivery.updateMany({ where: { requestId }, data: { status: "processing", claimedAt: new Date(), claimedBy: live } });
    await publishDelivery(requestId);
    // The copy waits in the recheck delay queue while the other worker is alive ...
    await waitFor(async () => (await env.queueDepth(recheckQueue())) === 1, { what: "the copy to wait in the recheck queue" });
    await env.db.prisma.workerInstance.update({ where: { id: live }, data: { heartbeatAt: new Date() } });
    await env.db.prisma.delivery.updateMany({ where: { requestId }, data: { status: "sent" } });
    // ... comes back, finds it sent, and is dropped.
    await waitFor(async () => (await env.queueDepth(recheckQueue())) === 0 && (await env.queueDepth("email.queue")) === 0, {
      what: "the copy to come back and be dropped",
    });
    const marker = await createUser(app);
    await sendEmail(app, marker.id);
    await waitFor(() => smtp.received.some((m) => m.to === marker.email));
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(1);
    expect((await statusOf(app, requestId)).deliveries[0]!.status).toBe("sent");
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

  it("dead-letters bytes PostgreSQL cannot store as text (NUL, not UTF-8) once, and goes on with the next", async () => {
    await publishRaw(env.broker, "email.queue", Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22]), { "x-correlation-id": "bytes\u0000-1", "x-request-id": "not-a-uuid" });
    await publishRaw(env.broker, "email.queue", '{"delivery_id": "\\u0000"}', { "x-correlation-id": "nul-escape" });
    const user = await createUser(app);
    await sendEmail(app, user.id);
    await waitFor(() => smtp.received.some((m) => m.to === user.email), { what: "the next mail" });
    const rows = await waitFor(async () => {
      const found = await env.db.prisma.deadLetter.findMany({ where: { errorCode: "unparseable_message", correlationId: { in: ["bytes\uFFFD-1", "nul-escape"] } } });
      return found.length === 2 ? found : undefined;
    });
    const bytes = rows.find((r) => r.correlationId === "bytes\uFFFD-1")!;
    expect(bytes.requestId).toBeNull();
    expect(Buffer.from((bytes.payload as { base64: string }).base64, "base64")).toEqual(Buffer.from([0x7b, 0x00, 0xff, 0xfe, 0x22]));
    await waitFor(async () => (await env.queueDepth("email.queue")) === 0, { what: "email.queue to drain" });
    await drainQueue(env.broker, "failed.queue");
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

describe("an attempt a dead worker left on the wire, for a channel that must not be sent twice", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld({ DELIVERY_LEASE: "1h", WORKER_DEAD_AFTER: "2s", INTERRUPTED_RESEND_CHANNELS: "" }, { worker: false }));
  });

  afterAll(() => cleanup());

  it("is dead-lettered once as delivery_interrupted, not sent, and replayable", async () => {
    const user = await createUser(app);
    const res = await sendEmail(app, user.id);
    const requestId = res.body.data.request_id as string;
    // No worker yet: the message waits in email.queue while we fake a dead worker's claim on it.
    await waitFor(async () => (await env.queueDepth("email.queue")) === 1, { what: "the message in email.queue" });
    const dead = newId();
    const longAgo = new Date(Date.now() - 60_000);
    await env.db.prisma.workerInstance.create({ data: { id: dead, service: "email-worker", host: "elsewhere", pid: 1, startedAt: longAgo, heartbeatAt: longAgo } });
    await env.db.prisma.delivery.updateMany({ where: { requestId }, data: { status: "processing", attempts: 1, claimedAt: longAgo, claimedBy: dead } });
    // Two copies of the message: the delivery is still dead-lettered only once.
    const delivery = await env.db.prisma.delivery.findFirstOrThrow({ where: { requestId } });
    const copy = deliveryOutgoing({ deliveryId: delivery.id, requestId, channel: "email", correlationId: "dup", priority: "normal" });
    await publishRaw(env.broker, "email.queue", JSON.stringify(copy.body), copy.headers);
    await startEmailWorker(env, smtp.port);

    const status = await waitFor(async () => {
      const s = await statusOf(app, requestId);
      return s.deliveries[0]?.status === "dead_lettered" ? s : undefined;
    });
    expect(status.deliveries[0]!.last_error_code).toBe("delivery_interrupted");
    await waitFor(async () => (await env.queueDepth("email.queue")) === 0, { what: "both copies handled" });
    const failed = await waitFor(async () => {
      const messages = await drainQueue(env.broker, "failed.queue");
      return messages.length > 0 ? messages : undefined;
    });
    expect(failed).toHaveLength(1);
    expect(header(failed[0]!, "x-error-code")).toBe("delivery_interrupted");
    expect(await env.db.prisma.deadLetter.count({ where: { deliveryId: delivery.id } })).toBe(1);
    expect(smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);
  });
});
