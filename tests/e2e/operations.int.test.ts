import request from "supertest";
import type { Express } from "express";
import { newId } from "@herald/db";
import { createTestEnv, TEST_API_KEY, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi } from "../support/system";

const VIEWER = { "X-API-Key": "viewer-key-ops-0123" };

describe("read-only keys, the audit log, the overview and the timeline", () => {
  let env: TestEnv;
  let app: Express;
  let services: { users: Express; templates: Express };

  beforeAll(async () => {
    env = await createTestEnv({ API_KEYS: `${TEST_API_KEY},viewer-key-ops-0123:read` });
    ({ app, services } = await startApi(env));
    await createWelcomeTemplate(app);
  });
  afterAll(() => env.cleanup());

  const audit = async (q: Record<string, string> = {}) =>
    (await request(app).get("/audit").query(q).set(AUTH)).body.data as { key_id: string; action: string; target: { type: string; id: string }; before: unknown; after: unknown; at: string }[];

  it("a read-only key reads everything and writes nothing, through the gateway or straight at a service", async () => {
    const user = await createUser(app);
    expect((await request(app).get(`/users/${user.id}`).set(VIEWER)).status).toBe(200);
    expect((await request(app).get("/notifications").set(VIEWER)).status).toBe(200);
    expect((await request(app).get("/whoami").set(VIEWER)).body.data).toEqual({ key_id: expect.stringMatching(/^[0-9a-f]{12}$/), role: "read" });
    expect((await request(app).post("/templates/welcome_email/preview").set(VIEWER).send({ variables: { name: "A" } })).status).toBe(200);
    const writes: [Express, string, string, unknown][] = [
      [app, "post", "/notifications/send", { user_id: user.id, channel: "email", template_id: "welcome_email", variables: { name: "A" } }],
      [app, "post", "/notifications/send-bulk", { notifications: [] }],
      [app, "post", "/routing-rules", { type: "x.y", template_id: "welcome_email", channels: ["email"] }],
      [app, "patch", `/users/${user.id}`, { name: "Mallory" }],
      [app, "delete", `/users/${user.id}`, undefined],
      [app, "put", "/templates/welcome_email", { channel: "email", body_text: "changed" }],
      [app, "post", "/dlq/replay", {}],
      [services.users, "patch", `/users/${user.id}`, { name: "Mallory" }],
      [services.templates, "delete", "/templates/welcome_email", undefined],
    ];
    for (const [target, method, path, body] of writes) {
      const call = (request(target) as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set(VIEWER);
      const res = await (body === undefined ? call : call.send(body as object));
      expect([method, path, res.status, res.body.error?.code]).toEqual([method, path, 403, "forbidden"]);
    }
    expect((await request(app).get(`/users/${user.id}`).set(AUTH)).body.data.name).toBe("Ada");
    expect((await audit({ key_id: (await request(app).get("/whoami").set(VIEWER)).body.data.key_id as string })).length).toBe(0);
  });

  it("records every write with its key fingerprint, target, before and after; an erasure leaves no contact data in it", async () => {
    const me = (await request(app).get("/whoami").set(AUTH)).body.data.key_id as string;
    const user = await createUser(app, { external_id: "audit-ada", email: "audit.ada@example.com" });
    await request(app).patch(`/users/${user.id}`).set(AUTH).send({ name: "Ada L." }).expect(200);
    await request(app).put(`/users/${user.id}/preferences`).set(AUTH).send({ sms_enabled: false }).expect(200);
    await request(app).put("/templates/welcome_email").set(AUTH).send({ channel: "email", subject: "Hi {{name}}", body_text: "Hi {{name}}", variables: ["name"] }).expect(200);
    await request(app).post("/routing-rules").set(AUTH).send({ type: "audit.made", template_id: "welcome_email", channels: ["email"] }).expect(201);
    await request(app).put("/routing-rules/audit.made").set(AUTH).send({ template_id: "welcome_email", channels: ["email"], priority: "high" }).expect(200);
    await request(app).delete("/routing-rules/audit.made").set(AUTH).expect(204);
    const endpoint = await request(app).post("/webhook-endpoints").set(AUTH).send({ url: "http://127.0.0.1:9/hook", events: ["delivery.sent"] }).expect(201);
    await request(app).patch(`/webhook-endpoints/${endpoint.body.data.id}`).set(AUTH).send({ enabled: false }).expect(200);

    const entries = await audit();
    const actions = entries.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(["user.create", "user.update", "user.preferences.update", "template.update", "routing_rule.create", "routing_rule.update", "routing_rule.delete", "webhook_endpoint.create", "webhook_endpoint.update"]),
    );
    expect(JSON.stringify(entries)).not.toContain(endpoint.body.data.secret as string);
    expect(entries.find((e) => e.action === "webhook_endpoint.update")).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
    for (const e of entries.filter((x) => x.key_id !== "system")) expect(e.key_id).toBe(me);
    expect(JSON.stringify(entries)).not.toContain(TEST_API_KEY);
    const update = entries.find((e) => e.action === "user.update" && e.target.id === user.id)!;
    expect(update.before).toMatchObject({ name: "Ada" });
    expect(update.after).toMatchObject({ name: "Ada L." });
    const template = entries.find((e) => e.action === "template.update")!;
    expect(template.target).toEqual({ type: "template", id: "welcome_email/email/en" });
    expect(template.before).toMatchObject({ version: 1, subject: "Welcome, {{name}}!" });
    expect(template.after).toMatchObject({ version: 2, subject: "Hi {{name}}" });
    expect(entries.find((e) => e.action === "routing_rule.update")).toMatchObject({ before: { priority: "normal" }, after: { priority: "high" } });
    // Newest first, filtered by target.
    const forUser = await audit({ target_type: "user", target_id: user.id });
    expect(forUser.map((e) => e.action)).toEqual(["user.preferences.update", "user.update", "user.create"]);

    await request(app).delete(`/users/${user.id}`).set(AUTH).expect(204);
    const after = JSON.stringify(await audit({ target_type: "user", target_id: user.id }));
    expect(after).toContain("user.delete");
    expect(after).not.toContain("audit.ada@example.com");
    expect(after).not.toContain("Ada L.");
  });

  it("audits a DLQ discard, in the same transaction as the delete", async () => {
    const id = newId();
    await env.db.pool.query(`INSERT INTO dead_letters (id, error_code, error, attempts, payload, headers) VALUES ($1, 'smtp_550', 'no such mailbox', 1, '{}', '{}')`, [id]);
    await request(app).delete(`/dlq/${id}`).set(AUTH).expect(204);
    expect((await audit({ action: "dlq.discard" }))[0]).toMatchObject({ target: { type: "dead_letter", id }, before: { error_code: "smtp_550" }, after: null });
    await request(app).delete(`/dlq/${id}`).set(AUTH).expect(404);
    expect(await audit({ action: "dlq.discard" })).toHaveLength(1);
  });

  it("GET /overview: rates, outbox, backlog, dead letters, live worker instances and their breakers", async () => {
    const user = await createUser(app);
    const sent = (await sendEmail(app, user.id)).body.data.request_id as string;
    await env.db.pool.query(`UPDATE deliveries SET status = 'sent', sent_at = now(), provider = 'smtp' WHERE request_id = $1`, [sent]);
    const failed = (await sendEmail(app, user.id)).body.data.request_id as string;
    await env.db.pool.query(
      `INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, provider) SELECT id, 1, 'smtp_421', 'busy', true, 'smtp' FROM deliveries WHERE request_id = $1`,
      [failed],
    );
    await sendEmail(app, user.id, { send_at: new Date(Date.now() + 3_600_000).toISOString() });
    const beat = (service: string, heartbeat: string, stopped: string | null, breakers: Record<string, string>) =>
      env.db.pool.query(
        `INSERT INTO worker_instances (id, service, host, pid, heartbeat_at, stopped_at, info) VALUES ($1, $2, 'test-host', 4242, now() - $3::interval, now() - $4::interval, $5)`,
        [newId(), service, heartbeat, stopped, JSON.stringify({ queue: "email.queue", consuming: true, in_flight: 2, breakers })],
      );
    await beat("email-worker", "1 second", null, { smtp: "closed" });
    await beat("email-worker", "2 seconds", null, { smtp: "open" });
    await beat("email-worker", "1 minute", null, { smtp: "open" }); // no heartbeat for a minute: not alive
    await beat("sms-worker", "1 second", "1 second", { twilio: "open" }); // stopped: not alive

    const overview = await waitFor(
      async () => {
        const data = (await request(app).get("/overview").set(VIEWER)).body.data;
        return data.backlog.scheduled === 1 && data.workers.length === 2 ? data : undefined;
      },
      { timeoutMs: 15_000, what: "the overview's figures (cached up to 5 s)" },
    );
    expect(overview.workers.map((w: { service: string; info: { in_flight: number } }) => [w.service, w.info.in_flight])).toEqual([
      ["email-worker", 2],
      ["email-worker", 2],
    ]);
    expect(overview.breakers).toEqual([{ provider: "smtp", state: "open", instances: { closed: 1, half_open: 0, open: 1 } }]);
    const minute = (r: { sent: number; failed: number; channel: string; provider: string }) => r.channel === "email" && r.provider === "smtp";
    const email = overview.rates.filter(minute);
    expect(email.reduce((n: number, r: { sent: number }) => n + r.sent, 0)).toBe(1);
    expect(email.reduce((n: number, r: { failed: number }) => n + r.failed, 0)).toBe(1);
    expect(overview.rates[0].minute).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    expect(overview.outbox).toEqual({ pending: expect.any(Number), oldest_age_seconds: overview.outbox.pending === 0 ? null : expect.any(Number) });
    expect(overview.queues).toEqual(expect.arrayContaining([expect.objectContaining({ queue: "email.queue", consumers: 0 })]));
  });

  it("a request's timeline: scheduled, released, each failed attempt with its wait, dead-lettered, replayed, sent", async () => {
    const user = await createUser(app);
    const requestId = (await sendEmail(app, user.id, { send_at: new Date(Date.now() + 60_000).toISOString() })).body.data.request_id as string;
    // The rows of a delivery scheduled a minute ago that has lived through all of it since.
    const sendAt = new Date(Date.now() - 60_000).toISOString();
    const deliveryId = (await env.db.prisma.delivery.findFirstOrThrow({ where: { requestId } })).id;
    const t = (s: number) => new Date(Date.parse(sendAt) + s * 1000).toISOString();
    await env.db.pool.query(
      `INSERT INTO delivery_attempts (delivery_id, attempt, error_code, error, retryable, provider, created_at)
       VALUES ($1, 1, 'smtp_421', 'try later', true, 'smtp', $2), ($1, 2, 'smtp_550', 'no such mailbox', false, 'smtp', $3)`,
      [deliveryId, t(1), t(3)],
    );
    await env.db.pool.query(
      `INSERT INTO dead_letters (id, delivery_id, request_id, channel, error_code, error, attempts, payload, headers, created_at, replayed_at, replay_count)
       VALUES ($1, $2, $3, 'email', 'smtp_550', 'no such mailbox', 2, '{}', '{}', $4, $5, 1)`,
      [newId(), deliveryId, requestId, t(3.1), t(10)],
    );
    await env.db.pool.query(`UPDATE deliveries SET status = 'sent', attempts = 1, provider = 'smtp', provider_message_id = 'pm-t', sent_at = $2, release_at = $3 WHERE id = $1`, [deliveryId, t(11), sendAt]);
    await env.db.pool.query(`UPDATE notification_requests SET send_at = $2, created_at = $3 WHERE id = $1`, [requestId, sendAt, t(-300)]);
    await env.db.pool.query(`UPDATE deliveries SET created_at = $2 WHERE id = $1`, [deliveryId, t(-300)]);

    const { body } = await request(app).get(`/notifications/${requestId}/timeline`).set(VIEWER).expect(200);
    const steps = (body.data.events as { step: string; attempt?: number; wait_ms?: number; error_code?: string; provider?: string }[]).map((e) =>
      [e.step, e.attempt, e.wait_ms, e.error_code].filter((x) => x !== undefined).join(" "),
    );
    expect(steps).toEqual(["accepted", "scheduled", "released", "attempt_failed 1 smtp_421", "retry_wait 1 2000", "attempt_failed 2 smtp_550", "dead_lettered smtp_550", "replayed", "sent 1"]);
    expect(body.data.status_now).toEqual({ email: "sent" });
    expect((await request(app).get(`/notifications/${newId()}/timeline`).set(AUTH)).status).toBe(404);
  });
});
