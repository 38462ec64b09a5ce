import request from "supertest";
import type { Express } from "express";
import { createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import { createMultiChannelTemplate, emailWorld, rowCounts } from "../support/gateway";
import { AUTH, createUser, startApi, startEmailWorker, statusOf } from "../support/system";

const rule = (type: string, extra: Record<string, unknown> = {}) => ({ type, template_id: "order_update", channels: ["email"], ...extra });

describe("/routing-rules CRUD", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv();
    ({ app } = await startApi(env));
    await createMultiChannelTemplate(app, "order_update", ["email", "webhook", "slack", "sms"]);
  });

  afterAll(() => env.cleanup());

  it("creates (201), refuses a second rule for a type (409), reads, lists with a cursor, replaces and deletes", async () => {
    const created = await request(app).post("/routing-rules").set(AUTH).send(rule("order.created", { channels: ["email", "webhook", "slack"], priority: "high" }));
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ type: "order.created", template_id: "order_update", channels: ["email", "webhook", "slack"], priority: "high", enabled: true });

    const again = await request(app).post("/routing-rules").set(AUTH).send(rule("order.created"));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");

    for (const type of ["payment.failed", "payment.success", "user.registered"]) {
      expect((await request(app).post("/routing-rules").set(AUTH).send(rule(type))).status).toBe(201);
    }
    const one = await request(app).get("/routing-rules/order.created").set(AUTH);
    expect(one.status).toBe(200);
    expect(one.body.data.priority).toBe("high");

    const page1 = await request(app).get("/routing-rules?limit=3").set(AUTH);
    expect(page1.body.data.map((r: { type: string }) => r.type)).toEqual(["order.created", "payment.failed", "payment.success"]);
    const page2 = await request(app).get(`/routing-rules?limit=3&cursor=${page1.body.meta.next_cursor}`).set(AUTH);
    expect(page2.body.data.map((r: { type: string }) => r.type)).toEqual(["user.registered"]);
    expect(page2.body.meta.next_cursor).toBeUndefined();

    const put = await request(app).put("/routing-rules/order.created").set(AUTH).send({ template_id: "order_update", channels: ["email", "sms"], enabled: false });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ type: "order.created", channels: ["email", "sms"], priority: "normal", enabled: false });
    expect((await request(app).get("/routing-rules/order.created").set(AUTH)).body.data.channels).toEqual(["email", "sms"]);

    expect((await request(app).delete("/routing-rules/user.registered").set(AUTH)).status).toBe(204);
    expect((await request(app).get("/routing-rules/user.registered").set(AUTH)).status).toBe(404);
    expect((await request(app).delete("/routing-rules/user.registered").set(AUTH)).status).toBe(404);
    expect((await request(app).put("/routing-rules/user.registered").set(AUTH).send({ template_id: "t", channels: ["email"] })).status).toBe(404);
    expect(await env.db.prisma.routingRule.count()).toBe(3);
  });

  it("422 template_not_found for a rule naming a template that does not exist, or lacks a channel's variant", async () => {
    const before = await env.db.prisma.routingRule.count();
    const unknown = await request(app).post("/routing-rules").set(AUTH).send(rule("ghost.event", { template_id: "no_such_template" }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({ code: "template_not_found", details: [{ field: "template_id", channel: "email" }] });
    const noPush = await request(app).post("/routing-rules").set(AUTH).send(rule("push.event", { channels: ["email", "push"] }));
    expect(noPush.status).toBe(422);
    expect(noPush.body.error.details).toEqual([expect.objectContaining({ field: "template_id", channel: "push", message: "no push variant" })]);
    expect((await request(app).post("/routing-rules").set(AUTH).send(rule("ok.event"))).status).toBe(201);
    const put = await request(app).put("/routing-rules/ok.event").set(AUTH).send({ template_id: "no_such_template", channels: ["email"] });
    expect(put.status).toBe(422);
    expect((await request(app).get("/routing-rules/ok.event").set(AUTH)).body.data.template_id).toBe("order_update");
    expect(await env.db.prisma.routingRule.count()).toBe(before + 1);
    await request(app).delete("/routing-rules/ok.event").set(AUTH);
  });

  it("deleting a template (or a variant) that rules send with is 409 naming the rules; ?force=true deletes it anyway", async () => {
    await createMultiChannelTemplate(app, "in_use", ["email", "sms"]);
    await request(app).post("/routing-rules").set(AUTH).send(rule("uses.email", { template_id: "in_use" }));
    await request(app).post("/routing-rules").set(AUTH).send(rule("uses.sms", { template_id: "in_use", channels: ["sms"] }));

    const whole = await request(app).delete("/templates/in_use").set(AUTH);
    expect(whole.status).toBe(409);
    expect(whole.body.error.code).toBe("template_in_use");
    expect(whole.body.error.details.map((d: { rule: string }) => d.rule).sort()).toEqual(["uses.email", "uses.sms"]);
    const sms = await request(app).delete("/templates/in_use?channel=sms").set(AUTH);
    expect(sms.status).toBe(409);
    expect(sms.body.error.details).toEqual([expect.objectContaining({ field: "template_id", rule: "uses.sms", channel: "sms" })]);
    expect((await request(app).get("/templates/in_use").set(AUTH)).body.data.variants).toHaveLength(2);

    expect((await request(app).delete("/routing-rules/uses.sms").set(AUTH)).status).toBe(204);
    expect((await request(app).delete("/templates/in_use?channel=sms").set(AUTH)).status).toBe(204);
    expect((await request(app).delete("/templates/in_use?force=true").set(AUTH)).status).toBe(204);
    expect((await request(app).get("/templates/in_use").set(AUTH)).status).toBe(404);
    await request(app).delete("/routing-rules/uses.email").set(AUTH);
  });

  it("400 naming the field for a rule that is not valid, and writes nothing", async () => {
    const before = await env.db.prisma.routingRule.count();
    const cases: [Record<string, unknown>, string][] = [
      [rule("a.b", { channels: [] }), "channels"],
      [rule("a.b", { channels: ["email", "email"] }), "channels"],
      [rule("a.b", { channels: ["pigeon"] }), "channels.0"],
      [rule("a.b", { priority: "urgent" }), "priority"],
      [rule("has space"), "type"],
      [{ type: "a.b", channels: ["email"] }, "template_id"],
      [rule("a.b", { extra: true }), "(body)"],
    ];
    for (const [body, field] of cases) {
      const res = await request(app).post("/routing-rules").set(AUTH).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const put = await request(app).put("/routing-rules/order.created").set(AUTH).send({ template_id: "x", channels: [], type: "other" });
    expect(put.status).toBe(400);
    expect((await request(app).get("/routing-rules/bad type!").set(AUTH)).status).toBe(400);
    expect(await env.db.prisma.routingRule.count()).toBe(before);
  });
});

describe("POST /events", () => {
  const w = emailWorld();

  beforeAll(async () => {
    await createMultiChannelTemplate(w.app, "order_update", ["email", "sms"]);
    await startEmailWorker(w.env, w.smtp.port);
    for (const body of [
      rule("order.cancelled", { channels: ["email", "sms"], priority: "high" }),
      rule("payment.success"),
      rule("payment.paused", { enabled: false }),
      rule("order.shipped", { template_id: "short_lived" }),
    ]) {
      if (body.template_id === "short_lived") await createMultiChannelTemplate(w.app, "short_lived", ["email"]);
      expect((await request(w.app).post("/routing-rules").set(AUTH).send(body)).status).toBe(201);
    }
    // A rule whose template was deleted since (with force): its events answer 422.
    expect((await request(w.app).delete("/templates/short_lived?force=true").set(AUTH)).status).toBe(204);
  });


  it("sends what the type's rule names, with the event's data as variables", async () => {
    const user = await createUser(w.app, { external_id: "cust-1", phone: "+14155550111" });
    const res = await request(w.app).post("/events").set(AUTH).send({ type: "order.cancelled", user_id: "cust-1", data: { name: "Ada" } });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ status: "queued", channels: ["email", "sms"] });
    const requestId = res.body.data.request_id as string;
    const mail = await waitFor(() => w.smtp.received.find((m) => m.to === user.email), { what: "the email" });
    expect(mail.subject).toBe("Hi Ada");
    const status = await waitFor(async () => {
      const s = await statusOf(w.app, requestId);
      return s.deliveries.some((d) => d.status === "sent") ? s : undefined;
    });
    expect(status).toMatchObject({ source: "event", event_type: "order.cancelled", priority: "high", template_id: "order_update" });
    expect(status.deliveries).toHaveLength(2);
  });

  it("an idempotency key makes a retried event a replay", async () => {
    const user = await createUser(w.app);
    const event = { type: "payment.success", user_id: user.id, data: { name: "Ada" }, idempotency_key: "pay-1" };
    const first = await request(w.app).post("/events").set(AUTH).send(event);
    const second = await request(w.app).post("/events").set(AUTH).send(event);
    expect(second.status).toBe(202);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(second.body.data.request_id).toBe(first.body.data.request_id);
    const other = await request(w.app).post("/events").set(AUTH).send({ ...event, data: { name: "Bob" } });
    expect(other.status).toBe(409);
    expect(await w.env.db.prisma.notificationRequest.count({ where: { userId: user.id } })).toBe(1);
  });

  it("422 routing_rule_not_found for a type without an enabled rule; the send's own 4xx otherwise; nothing written", async () => {
    const user = await createUser(w.app);
    const before = await rowCounts(w.env);
    const post = (body: Record<string, unknown>) => request(w.app).post("/events").set(AUTH).send(body);

    const none = await post({ type: "no.such.event", user_id: user.id, data: { name: "A" } });
    expect(none.status).toBe(422);
    expect(none.body.error).toMatchObject({ code: "routing_rule_not_found", details: [{ field: "type" }] });
    const disabled = await post({ type: "payment.paused", user_id: user.id, data: { name: "A" } });
    expect(disabled.status).toBe(422);
    expect(disabled.body.error.code).toBe("routing_rule_not_found");
    expect(disabled.body.message).toContain("disabled");

    expect((await post({ type: "payment.success", user_id: "nobody", data: { name: "A" } })).body.error.code).toBe("user_not_found");
    expect((await post({ type: "payment.success", user_id: user.id, data: {} })).body.error.code).toBe("missing_variables");
    expect((await post({ type: "order.shipped", user_id: user.id, data: { name: "A" } })).body.error.code).toBe("template_not_found");

    const invalid = await post({ type: "", user_id: user.id, data: "x", extra: 1 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(["type", "data", "(body)"]));
    expect(await rowCounts(w.env)).toEqual(before);
  });
});
