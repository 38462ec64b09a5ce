import request from "supertest";
import type { Express } from "express";
import type { Runtime } from "@herald/runtime";
import { createTestEnv, FakeSmtp, waitFor, type ReceivedMail, type TestEnv } from "@herald/testkit";
import { startGateway, wallTime } from "../support/gateway";
import { AUTH, createUser, startApi, startEmailWorker, statusOf } from "../support/system";

const MINUTE = 60_000;

/** A digest template: every event's name, the count, the first and the last. */
async function createDigestTemplate(app: Express): Promise<void> {
  const res = await request(app)
    .post("/templates")
    .set(AUTH)
    .send({
      template_id: "activity",
      name: "Activity digest",
      channel: "email",
      subject: "{{count}} updates for {{name}}",
      body_text: "{{#events}}{{name}};{{/events}} first={{first.name}} last={{last.name}}",
      variables: ["name", "events", "count", "first", "last"],
    });
  if (res.status !== 201) throw new Error(`template not created: ${res.status} ${JSON.stringify(res.body)}`);
}

interface Accepted {
  request_id: string;
  status: string;
  deliveries: { delivery_id: string; status: string; digest_delivery_id?: string; release_at?: string }[];
}

async function send(app: Express, userId: string, name: string, extra: Record<string, unknown> = {}): Promise<Accepted> {
  const res = await request(app)
    .post("/notifications/send")
    .set(AUTH)
    .send({ user_id: userId, channel: "email", template_id: "activity", variables: { name }, ...extra });
  if (res.status !== 202) throw new Error(`send not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as Accepted;
}

const mailsTo = (smtp: FakeSmtp, to: string): ReceivedMail[] => smtp.received.filter((m) => m.to === to);

describe("digest", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;
  let gatewayRuntime: Runtime;
  let workerRuntime: Runtime;
  /** The user service's own app: users are made there, whichever gateway runs. */
  let usersApp: Express;

  beforeAll(async () => {
    env = await createTestEnv({ SCHEDULER_INTERVAL: "100ms" });
    smtp = new FakeSmtp();
    await smtp.start();
    let services: { users: Express };
    ({ app, runtime: gatewayRuntime, services } = await startApi(env));
    usersApp = services.users;
    ({ runtime: workerRuntime } = await startEmailWorker(env, smtp.port));
    await createDigestTemplate(app);
  });
  afterAll(async () => {
    await env.cleanup();
    await smtp.stop();
  });

  it("collects the sends of a window into one delivery, the first's; the others end digested, naming it", async () => {
    const user = await createUser(usersApp);
    const digest = { window: "2s" };
    const a = await send(app, user.id, "a", { digest });
    expect(a).toMatchObject({ status: "digesting", deliveries: [{ status: "digesting", digest_delivery_id: a.deliveries[0]!.delivery_id, release_at: expect.any(String) }] });
    const carrier = a.deliveries[0]!.delivery_id;
    const b = await send(app, user.id, "b", { digest });
    const c = await send(app, user.id, "c", { digest });
    for (const later of [b, c]) expect(later.deliveries[0]).toMatchObject({ status: "digesting", digest_delivery_id: carrier });
    expect(mailsTo(smtp, user.email)).toHaveLength(0);

    const mail = await waitFor(() => mailsTo(smtp, user.email)[0], { timeoutMs: 15_000, what: "the digest mail" });
    expect(mail.subject).toBe("3 updates for a");
    expect(mail.text?.trim()).toBe("a;b;c; first=a last=c");
    const first = await waitFor(async () => {
      const s = await statusOf(app, a.request_id);
      return s.deliveries[0]!.status === "sent" ? s : undefined;
    });
    expect(first.deliveries[0]).toMatchObject({ digest_delivery_id: carrier });
    expect((first as unknown as { digest: unknown }).digest).toEqual({ window: 2, first: "batched" });
    for (const later of [b, c]) {
      const s = await statusOf(app, later.request_id);
      expect(s.status).toBe("digested");
      expect(s.deliveries[0]).toMatchObject({ status: "digested", digest_delivery_id: carrier });
    }
    expect(mailsTo(smtp, user.email)).toHaveLength(1);
    expect(await env.db.prisma.digestWindow.count({ where: { userId: user.id } })).toBe(0);
  });

  it("keeps keys apart, releases a window at max at once, and first: immediate sends the first at once", async () => {
    const user = await createUser(usersApp);
    // max 2 in an hour-long window: released as soon as the second arrives.
    const full = { key: "full", window: "1h", max: 2 };
    await send(app, user.id, "m1", { digest: full });
    await send(app, user.id, "other-key", { digest: { key: "other", window: "1h" } });
    await send(app, user.id, "m2", { digest: full });
    const maxed = await waitFor(() => mailsTo(smtp, user.email).find((m) => m.subject === "2 updates for m1"), { timeoutMs: 15_000, what: "the max digest" });
    expect(maxed.text?.trim()).toBe("m1;m2; first=m1 last=m2");
    // The next send of that key opens a new window.
    const next = await send(app, user.id, "m3", { digest: full });
    expect(next.deliveries[0]!.digest_delivery_id).toBe(next.deliveries[0]!.delivery_id);

    const immediate = { key: "now", window: "2s", first: "immediate" };
    const i1 = await send(app, user.id, "i1", { digest: immediate });
    expect(i1).toMatchObject({ status: "queued", deliveries: [{ status: "queued" }] });
    const alone = await waitFor(() => mailsTo(smtp, user.email).find((m) => m.subject === "1 updates for i1"), { what: "the immediate first" });
    expect(alone.text?.trim()).toBe("i1; first=i1 last=i1");
    const i2 = await send(app, user.id, "i2", { digest: immediate });
    await send(app, user.id, "i3", { digest: immediate });
    expect(i2.deliveries[0]).toMatchObject({ status: "digesting", digest_delivery_id: i2.deliveries[0]!.delivery_id });
    const rest = await waitFor(() => mailsTo(smtp, user.email).find((m) => m.subject === "2 updates for i2"), { timeoutMs: 15_000, what: "the rest" });
    expect(rest.text?.trim()).toBe("i2;i3; first=i2 last=i3");
    expect(mailsTo(smtp, user.email).filter((m) => m.subject?.includes("other-key"))).toHaveLength(0);
  });

  it("never digests critical, refuses Herald's own variables and send_at, and honours quiet hours at send time", async () => {
    const user = await createUser(usersApp);
    const critical = await send(app, user.id, "urgent", { digest: { window: "1h" }, priority: "critical" });
    expect(critical.deliveries[0]).toMatchObject({ status: "queued" });
    expect(critical.deliveries[0]!.digest_delivery_id).toBeUndefined();
    // Sent at once, as a digest of one.
    await waitFor(() => mailsTo(smtp, user.email).find((m) => m.subject === "1 updates for urgent"), { what: "critical goes at once" });

    const own = await request(app)
      .post("/notifications/send")
      .set(AUTH)
      .send({ user_id: user.id, channel: "email", template_id: "activity", variables: { name: "x", count: 5 }, digest: { window: "1m" } });
    expect(own.status).toBe(400);
    expect(own.body.error.details).toEqual([expect.objectContaining({ field: "variables.count" })]);
    const scheduled = await request(app)
      .post("/notifications/send")
      .set(AUTH)
      .send({ user_id: user.id, channel: "email", template_id: "activity", variables: { name: "x" }, digest: { window: "1m" }, send_at: new Date(Date.now() + MINUTE).toISOString() });
    expect(scheduled.status).toBe(400);
    expect(scheduled.body.error.details[0].field).toBe("digest");
    const badWindow = await request(app).post("/notifications/send").set(AUTH).send({ user_id: user.id, channel: "email", template_id: "activity", variables: { name: "x" }, digest: { window: "soon" } });
    expect(badWindow.status).toBe(400);

    // Quiet hours from an hour ago to an hour ahead: the digest is released into them, so it is held until they end.
    const now = Date.now();
    const quiet = { start: wallTime(new Date(now - 60 * MINUTE), "UTC"), end: wallTime(new Date(now + 60 * MINUTE), "UTC"), timezone: "UTC" };
    const sleepy = await createUser(usersApp, { preferences: { quiet_hours: quiet } });
    const q1 = await send(app, sleepy.id, "q1", { digest: { window: "1s" } });
    expect(q1.deliveries[0]!.status).toBe("digesting");
    await send(app, sleepy.id, "q2", { digest: { window: "1s" } });
    const held = await waitFor(async () => {
      const s = await statusOf(app, q1.request_id);
      return s.deliveries[0]!.status === "held" ? s : undefined;
    }, { timeoutMs: 15_000, what: "the digest held by quiet hours" });
    const releaseAt = Date.parse((held.deliveries[0] as unknown as { release_at: string }).release_at);
    expect(Math.abs(releaseAt - (Math.floor((now + 60 * MINUTE) / MINUTE) * MINUTE))).toBeLessThan(MINUTE);
    expect(mailsTo(smtp, sleepy.email)).toHaveLength(0);
  });

  it("loses nothing when the worker and the gateway restart in the middle of a window: one digest, every event in it", async () => {
    const user = await createUser(usersApp);
    const digest = { key: "restart", window: "1h", max: 4 };
    const a = await send(app, user.id, "r1", { digest });
    await send(app, user.id, "r2", { digest });

    // Both go away with the window open (its state is only in PostgreSQL)...
    await gatewayRuntime.releasers.releaseAll();
    await workerRuntime.releasers.releaseAll();
    // ...and come back: a new gateway, a new worker.
    const { app: second, runtime: secondRuntime } = await startGateway(env, { SCHEDULER_INTERVAL: "100ms" });
    gatewayRuntime = secondRuntime;
    await send(second, user.id, "r3", { digest });
    await startEmailWorker(env, smtp.port);
    await send(second, user.id, "r4", { digest });

    const mail = await waitFor(() => mailsTo(smtp, user.email)[0], { timeoutMs: 15_000, what: "the digest after the restart" });
    expect(mail.subject).toBe("4 updates for r1");
    expect(mail.text?.trim()).toBe("r1;r2;r3;r4; first=r1 last=r4");
    await waitFor(async () => (await statusOf(second, a.request_id)).deliveries[0]!.status === "sent");
    expect(mailsTo(smtp, user.email)).toHaveLength(1);

    app = second;
  });

  it("releases a window that closed while no gateway ran when the next one starts", async () => {
    const user = await createUser(usersApp);
    // No other gateway runs; this one's scheduler has run its first pass and will not run again:
    // the window closes unreleased.
    await gatewayRuntime.releasers.releaseAll();
    const { app: lazy, runtime } = await startGateway(env, { SCHEDULER_INTERVAL: "1h" });
    const closing = { key: "closing", window: "1s" };
    const c1 = await send(lazy, user.id, "c1", { digest: closing });
    await send(lazy, user.id, "c2", { digest: closing });
    const window = await env.db.prisma.digestWindow.findFirstOrThrow({ where: { userId: user.id } });
    await waitFor(() => Date.now() > window.closesAt.getTime() + 200, { what: "the window to close" });
    expect((await statusOf(lazy, c1.request_id)).deliveries[0]!.status).toBe("digesting");
    await runtime.releasers.releaseAll();

    const { app: next } = await startGateway(env, { SCHEDULER_INTERVAL: "100ms" });
    const mail = await waitFor(() => mailsTo(smtp, user.email)[0], { timeoutMs: 15_000, what: "the digest released by the next gateway" });
    expect(mail.subject).toBe("2 updates for c1");
    expect(mail.text?.trim()).toBe("c1;c2; first=c1 last=c2");
    await waitFor(async () => (await statusOf(next, c1.request_id)).deliveries[0]!.status === "sent");
  });
});
