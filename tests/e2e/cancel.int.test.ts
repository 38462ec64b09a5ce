import request from "supertest";
import type { Express } from "express";
import { delayQueueName } from "@herald/messaging";
import { queueOf } from "@herald/channels";
import { sleep, waitFor } from "@herald/testkit";
import { deliveriesOf, emailWorld } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startEmailWorker, statusOf } from "../support/system";

const cancel = (app: Express, id: string) => request(app).post(`/notifications/${id}/cancel`).set(AUTH);

describe("POST /notifications/:request_id/cancel", () => {
  const w = emailWorld({ RETRY_BASE_DELAY_MS: "1500", SCHEDULER_INTERVAL: "200ms" });
  beforeAll(() => createWelcomeTemplate(w.app));

  it("cancels a queued send whose message is already in RabbitMQ: the worker drops it, nothing is sent", async () => {
    const user = await createUser(w.app);
    const res = await sendEmail(w.app, user.id);
    expect(res.status).toBe(202);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await w.env.queueDepth(queueOf("email"))) === 1, { what: "the message in email.queue" });

    const cancelled = await cancel(w.app, requestId);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ request_id: requestId, status: "cancelled", deliveries: [{ status: "cancelled", attempts: 0 }] });

    const other = await createUser(w.app);
    await startEmailWorker(w.env, w.smtp.port);
    await sendEmail(w.app, other.id);
    await waitFor(() => w.smtp.received.find((m) => m.to === other.email), { what: "the other user's mail" });
    await waitFor(async () => (await w.env.queueDepth(queueOf("email"))) === 0, { what: "email.queue to empty" });
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);
    expect((await statusOf(w.app, requestId)).deliveries[0]).toMatchObject({ status: "cancelled", attempts: 0 });

    // Nothing left to cancel now.
    const again = await cancel(w.app, requestId);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "conflict", details: [{ channel: "email", status: "cancelled" }] });
  });

  it("409 once it has been sent, and the delivery stays sent", async () => {
    const user = await createUser(w.app);
    const res = await sendEmail(w.app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(w.app, requestId)).status === "sent");
    const late = await cancel(w.app, requestId);
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: "conflict", details: [{ channel: "email", status: "sent" }] });
    expect((await statusOf(w.app, requestId)).status).toBe("sent");
  });

  it("cancels a scheduled send: it is never released", async () => {
    const user = await createUser(w.app);
    const res = await sendEmail(w.app, user.id, { send_at: new Date(Date.now() + 1000).toISOString() });
    expect(res.body.data.status).toBe("scheduled");
    const requestId = res.body.data.request_id as string;
    expect((await cancel(w.app, requestId)).status).toBe(200);
    await sleep(2000);
    const [delivery] = await deliveriesOf(w.env, requestId);
    expect(delivery).toMatchObject({ status: "cancelled", attempts: 0 });
    expect(await w.env.db.prisma.outboxMessage.count()).toBe(0);
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);
  });

  it("cancels a delivery waiting to retry: when its message comes back from the delay queue it is dropped", async () => {
    const user = await createUser(w.app);
    w.smtp.fail({ mode: "reply", code: 451, message: "try later" }, 1);
    const res = await sendEmail(w.app, user.id);
    const requestId = res.body.data.request_id as string;
    await waitFor(async () => (await statusOf(w.app, requestId)).status === "retrying", { what: "the delivery to wait for a retry" });

    const cancelled = await cancel(w.app, requestId);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.deliveries[0]).toMatchObject({ status: "cancelled", attempts: 1 });

    const delayQueue = delayQueueName(queueOf("email"), 1500);
    await waitFor(async () => (await w.env.queueDepth(delayQueue)) === 0 && (await w.env.queueDepth(queueOf("email"))) === 0, {
      what: "the retry message to come back and be dropped",
    });
    await sleep(300);
    expect((await statusOf(w.app, requestId)).deliveries[0]).toMatchObject({ status: "cancelled", attempts: 1 });
    expect(w.smtp.received.filter((m) => m.to === user.email)).toHaveLength(0);
  });

  it("cancels what is left of a multi-channel request and leaves finished deliveries alone", async () => {
    const user = await createUser(w.app);
    const push = await request(w.app)
      .post("/templates")
      .set(AUTH)
      .send({ template_id: "welcome_email", name: "Welcome", channel: "push", title: "Hi {{name}}", body_text: "Hello {{name}}", variables: ["name"] });
    expect(push.status).toBe(201);
    const res = await sendEmail(w.app, user.id, { channel: undefined, channels: ["email", "push"], send_at: new Date(Date.now() + 60_000).toISOString() });
    expect(res.status).toBe(202);
    const cancelled = await cancel(w.app, res.body.data.request_id as string);
    expect(cancelled.status).toBe(200);
    expect((cancelled.body.data.deliveries as { channel: string; status: string }[]).map((d) => [d.channel, d.status])).toEqual([
      ["email", "cancelled"],
      ["push", "failed"],
    ]);
  });

  it("404 for an unknown request id or one that is not an id", async () => {
    const unknown = await cancel(w.app, "0190a0b0-0000-7000-8000-000000000000");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    expect((await cancel(w.app, "not-an-id")).status).toBe(404);
  });
});
