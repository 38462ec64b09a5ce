import request from "supertest";
import { Webhook } from "standardwebhooks";
import { closedPort, FakeWebhook, waitFor, type ReceivedWebhook } from "@herald/testkit";
import { emailWorld } from "../support/gateway";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startEmailWorker } from "../support/system";

/** Every event the receiver took, parsed, in arrival order. */
function events(received: ReceivedWebhook[]) {
  return received.map((r) => ({ id: r.headers["webhook-id"]!, ...(JSON.parse(r.body) as { type: string; timestamp: string; data: Record<string, unknown> }) }));
}

async function subscribe(app: Parameters<typeof request>[0], url: string, types: string[] = ["*"]) {
  const res = await request(app).post("/webhook-endpoints").set(AUTH).send({ url, events: types, description: "test" });
  expect(res.status).toBe(201);
  return res.body.data as { id: string; secret: string; enabled: boolean };
}

describe("status webhooks: a receiver that is down for a while gets every event once, in order per delivery", () => {
  // Short retry waits, so that "down for a while" is a couple of seconds here.
  const w = emailWorld({ STATUS_WEBHOOK_INTERVAL: "100ms", STATUS_WEBHOOK_RETRY_SCHEDULE: "0,200ms,300ms,400ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms", RETRY_BASE_DELAY_MS: "100" });
  const receiver = new FakeWebhook();

  beforeAll(async () => {
    await createWelcomeTemplate(w.app);
    await startEmailWorker(w.env, w.smtp.port);
  });
  afterAll(() => receiver.stop());

  it("writes the events with the status changes, retries while nothing listens, then posts each once in order", async () => {
    const port = await closedPort();
    const endpoint = await subscribe(w.app, `http://127.0.0.1:${port}/status`);
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint.enabled).toBe(true);
    // GET never shows the secret.
    const got = await request(w.app).get(`/webhook-endpoints/${endpoint.id}`).set(AUTH);
    expect(got.status).toBe(200);
    expect(JSON.stringify(got.body)).not.toContain("whsec_");

    // Three sends: the first mail fails once (delivery.failed, then delivery.sent).
    w.smtp.fail({ mode: "reply", code: 451, message: "try later" }, 1);
    const users = await Promise.all([1, 2, 3].map(() => createUser(w.app)));
    const sends = [];
    for (const user of users) sends.push((await sendEmail(w.app, user.id)).body.data as { request_id: string; deliveries: { delivery_id: string }[] });
    const deliveryIds = sends.map((s) => s.deliveries[0]!.delivery_id);
    await waitFor(async () => (await w.env.db.prisma.delivery.count({ where: { id: { in: deliveryIds }, status: "sent" } })) === 3, { what: "three mails sent" });

    // Nothing listens: every event waits, and each delivery's first event has failed at least twice.
    const expected = await waitFor(
      async () => {
        const rows = await w.env.db.prisma.webhookEvent.findMany({ where: { endpointId: endpoint.id }, orderBy: { id: "asc" } });
        const heads = deliveryIds.map((id) => rows.find((r) => r.deliveryId === id));
        return rows.length === 7 && heads.every((h) => h && h.attempts >= 2) ? rows : undefined;
      },
      { timeoutMs: 20_000, what: "7 events, the first of each delivery tried twice" },
    );
    expect(expected.every((r) => r.state === "pending")).toBe(true);
    const view = await request(w.app).get(`/webhook-endpoints/${endpoint.id}`).set(AUTH);
    expect(view.body.data).toMatchObject({ enabled: true, pending_events: 7, failing_since: expect.any(String), last_error: expect.stringContaining("ECONNREFUSED") });

    await receiver.start(port);
    await waitFor(() => receiver.received.length >= 7, { timeoutMs: 20_000, what: "the seven events" });
    await waitFor(async () => (await w.env.db.prisma.webhookEvent.count({ where: { endpointId: endpoint.id, state: "delivered" } })) === 7, { what: "all delivered" });

    const got7 = events(receiver.received);
    expect(got7).toHaveLength(7);
    expect(new Set(got7.map((e) => e.id)).size).toBe(7);
    const byDelivery = (id: string) => got7.filter((e) => e.data.delivery_id === id).map((e) => `${e.type}:${String(e.data.status)}`);
    // Whichever mail reached the SMTP server first got the 451.
    const failed = got7.find((e) => e.type === "delivery.failed")!;
    const unlucky = deliveryIds.indexOf(failed.data.delivery_id as string);
    expect(failed.data).toMatchObject({ request_id: sends[unlucky]!.request_id, channel: "email", attempts: 1, error_code: "smtp_451" });
    deliveryIds.forEach((id, i) =>
      expect(byDelivery(id)).toEqual(
        i === unlucky ? ["request.accepted:queued", "delivery.failed:retrying", "delivery.sent:sent"] : ["request.accepted:queued", "delivery.sent:sent"],
      ),
    );
    const lucky = (unlucky + 1) % 3;
    const sent = got7.find((e) => e.type === "delivery.sent" && e.data.delivery_id === deliveryIds[lucky])!;
    expect(sent.data).toMatchObject({ request_id: sends[lucky]!.request_id, channel: "email", status: "sent", attempts: 1 });
    expect(sent.data.error_code).toBeUndefined();
    expect(Date.parse(sent.timestamp)).not.toBeNaN();

    // Signed the Standard Webhooks way: the official library verifies every one.
    const verifier = new Webhook(endpoint.secret);
    for (const r of receiver.received) expect(verifier.verify(r.body, r.headers)).toEqual(JSON.parse(r.body));
    expect(() => new Webhook(`whsec_${Buffer.from("another key").toString("base64")}`).verify(receiver.received[0]!.body, receiver.received[0]!.headers)).toThrow();

    const after = await request(w.app).get(`/webhook-endpoints/${endpoint.id}`).set(AUTH);
    expect(after.body.data).toMatchObject({ enabled: true, pending_events: 0, failing_since: null, last_error: null, last_success_at: expect.any(String) });
  }, 60_000);

  it("writes events only for the types an endpoint subscribes to, and none once it is deleted", async () => {
    const hooks = new FakeWebhook();
    await hooks.start();
    try {
      const sentOnly = await subscribe(w.app, hooks.url("/sent-only"), ["delivery.sent"]);
      const user = await createUser(w.app);
      const res = await sendEmail(w.app, user.id);
      const deliveryId = res.body.data.deliveries[0].delivery_id as string;
      await waitFor(() => hooks.received.length === 1, { what: "the sent event" });
      expect(events(hooks.received).map((e) => e.type)).toEqual(["delivery.sent"]);
      expect(await w.env.db.prisma.webhookEvent.count({ where: { endpointId: sentOnly.id, deliveryId } })).toBe(1);

      expect((await request(w.app).delete(`/webhook-endpoints/${sentOnly.id}`).set(AUTH)).status).toBe(204);
      expect((await request(w.app).get(`/webhook-endpoints/${sentOnly.id}`).set(AUTH)).status).toBe(404);
      const again = await sendEmail(w.app, (await createUser(w.app)).id);
      await waitFor(async () => (await w.env.db.prisma.delivery.findUniqueOrThrow({ where: { id: again.body.data.deliveries[0].delivery_id } })).status === "sent");
      expect(await w.env.db.prisma.webhookEvent.count({ where: { endpointId: sentOnly.id } })).toBe(0);
    } finally {
      await hooks.stop();
    }
  });

  it("validates endpoints: events from the list, an http(s) URL, 404 for unknown ids", async () => {
    const bad = await request(w.app).post("/webhook-endpoints").set(AUTH).send({ url: "ftp://example.com", events: ["delivery.exploded"] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["events.0", "url"]);
    expect((await request(w.app).get("/webhook-endpoints/not-an-id").set(AUTH)).status).toBe(404);
    expect((await request(w.app).patch("/webhook-endpoints/0190a000-0000-7000-8000-000000000001").set(AUTH).send({ enabled: true })).status).toBe(404);
    const list = await request(w.app).get("/webhook-endpoints").set(AUTH);
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body.data)).toBe(true);
  });
});

describe("status webhooks: an endpoint failing for too long is disabled, and PATCH enabled: true resumes it", () => {
  const w = emailWorld({ STATUS_WEBHOOK_INTERVAL: "100ms", STATUS_WEBHOOK_RETRY_SCHEDULE: "0,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms", STATUS_WEBHOOK_DISABLE_AFTER: "1s" });
  const receiver = new FakeWebhook();

  beforeAll(async () => {
    await receiver.start();
    await createWelcomeTemplate(w.app);
    await startEmailWorker(w.env, w.smtp.port);
  });
  afterAll(() => receiver.stop());

  it("disables it after a second of failures, keeps its waiting events, and posts them once re-enabled", async () => {
    receiver.fail({ mode: "status", status: 503, body: "down" });
    const endpoint = await subscribe(w.app, receiver.url("/flaky"), ["request.accepted", "delivery.sent"]);
    const user = await createUser(w.app);
    const res = await sendEmail(w.app, user.id);
    const deliveryId = res.body.data.deliveries[0].delivery_id as string;

    const disabled = await waitFor(
      async () => {
        const view = await request(w.app).get(`/webhook-endpoints/${endpoint.id}`).set(AUTH);
        return view.body.data.enabled === false ? view.body.data : undefined;
      },
      { timeoutMs: 20_000, what: "the endpoint disabled" },
    );
    expect(disabled.disabled_reason).toMatch(/^every post failed since .*; PATCH enabled: true to resume$/);
    expect(disabled.last_error).toContain("503");
    await waitFor(async () => (await w.env.db.prisma.delivery.findUniqueOrThrow({ where: { id: deliveryId } })).status === "sent");
    // Disabled: nothing is posted any more; the events that were waiting stay.
    const posts = receiver.requests.length;
    const pending = await w.env.db.prisma.webhookEvent.count({ where: { endpointId: endpoint.id, state: "pending" } });
    expect(pending).toBe(2);
    await waitFor(async () => (await w.env.db.prisma.webhookEvent.count({ where: { endpointId: endpoint.id, nextAttemptAt: { gt: new Date() } } })) === 0, {
      what: "the waiting events to be due",
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.requests.length).toBe(posts);

    receiver.clearFaults();
    const enabled = await request(w.app).patch(`/webhook-endpoints/${endpoint.id}`).set(AUTH).send({ enabled: true });
    expect(enabled.status).toBe(200);
    expect(enabled.body.data).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    await waitFor(() => receiver.received.length === 2, { what: "the two waiting events" });
    expect(events(receiver.received).map((e) => e.type)).toEqual(["request.accepted", "delivery.sent"]);
  }, 60_000);
});

describe("status webhooks: the same SSRF guard as the webhook channel", () => {
  const w = emailWorld({ STATUS_WEBHOOK_INTERVAL: "100ms", WEBHOOK_ALLOW_PRIVATE: "false", STATUS_WEBHOOK_RETRY_SCHEDULE: "0,10s" });
  const receiver = new FakeWebhook();

  beforeAll(async () => {
    await receiver.start();
    await createWelcomeTemplate(w.app);
  });
  afterAll(() => receiver.stop());

  it("refuses to post to a loopback address when private addresses are not allowed", async () => {
    const endpoint = await subscribe(w.app, receiver.url("/internal"), ["request.accepted"]);
    await sendEmail(w.app, (await createUser(w.app)).id);
    const view = await waitFor(
      async () => {
        const res = await request(w.app).get(`/webhook-endpoints/${endpoint.id}`).set(AUTH);
        return res.body.data.last_error ? res.body.data : undefined;
      },
      { what: "the refused post" },
    );
    expect(view.last_error).toContain("a loopback address, which webhooks may not reach");
    expect(receiver.requests).toHaveLength(0);
  });
});
