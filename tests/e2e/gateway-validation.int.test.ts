import request from "supertest";
import type { Express } from "express";
import { createTestEnv, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi } from "../support/system";

describe("POST /notifications/send refuses what it cannot accept, and writes nothing", () => {
  let env: TestEnv;
  let app: Express;
  let userId: string;

  beforeAll(async () => {
    env = await createTestEnv();
    ({ app } = await startApi(env));
    await createWelcomeTemplate(app);
    userId = (await createUser(app)).id;
  });

  afterAll(() => env.cleanup());

  afterEach(async () => {
    expect(await env.db.prisma.notificationRequest.count()).toBe(0);
    expect(await env.db.prisma.outboxMessage.count()).toBe(0);
  });

  it("401 without an API key, with a wrong one; Bearer works; health and metrics need none", async () => {
    const none = await request(app).post("/notifications/send").send({});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ success: false, data: null, error: { code: "unauthorized" } });
    expect((await request(app).get("/notifications/x").set("X-API-Key", "wrong")).status).toBe(401);
    expect((await request(app).get("/notifications/x").set("Authorization", `Bearer ${AUTH["X-API-Key"]}`)).status).toBe(404);
    expect((await request(app).get("/health")).status).toBe(200);
    expect((await request(app).get("/health/ready")).status).toBe(200);
    const metrics = await request(app).get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain("http_request_duration_seconds");
  });

  it("400 validation_failed naming each bad field", async () => {
    const res = await request(app).post("/notifications/send").set(AUTH).send({ channel: "pigeon", priority: "urgent", extra: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    const fields = (res.body.error.details as { field: string }[]).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["user_id", "channel", "template_id", "priority", "(body)"]));
    const both = await sendEmail(app, userId, { channels: ["email"] });
    expect(both.status).toBe(400);
    expect(both.body.error.details[0].field).toBe("channels");
    const badKey = await sendEmail(app, userId, {}, { "Idempotency-Key": "has spaces" });
    expect(badKey.status).toBe(400);
  });

  it("400 for a body that is not JSON, 415 for one that is not application/json, 413 above 256 KB", async () => {
    const broken = await request(app).post("/notifications/send").set(AUTH).set("Content-Type", "application/json").send("{ nope");
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("validation_failed");
    const text = await request(app).post("/notifications/send").set(AUTH).set("Content-Type", "text/plain").send("hello");
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe("unsupported_media_type");
    const big = await sendEmail(app, userId, { variables: { name: "x".repeat(300 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
  });

  it("422 for an unknown user, an unknown template, missing variables, and a user with no address", async () => {
    const user = await sendEmail(app, "nobody-here");
    expect(user.status).toBe(422);
    expect(user.body.error.code).toBe("user_not_found");
    const template = await sendEmail(app, userId, { template_id: "no_such_template" });
    expect(template.status).toBe(422);
    expect(template.body.error.code).toBe("template_not_found");
    const pinned = await sendEmail(app, userId, { template_version: 7 });
    expect(pinned.status).toBe(422);
    expect(pinned.body.error.code).toBe("template_not_found");
    const vars = await sendEmail(app, userId, { variables: {} });
    expect(vars.status).toBe(422);
    expect(vars.body.error).toMatchObject({ code: "missing_variables", details: [{ field: "variables.name" }] });
    const noEmail = await createUser(app, { email: undefined, phone: "+14155550100" });
    const unreachable = await sendEmail(app, noEmail.id);
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.error.code).toBe("channel_not_available");
  });

  it("echoes X-Correlation-ID, or makes one; unknown routes and requests are 404 in the envelope", async () => {
    const made = await request(app).get("/notifications/0190a0b0-0000-7000-8000-000000000000").set(AUTH);
    expect(made.status).toBe(404);
    expect(made.headers["x-correlation-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.body).toMatchObject({ success: false, error: { code: "not_found" }, meta: { correlation_id: made.headers["x-correlation-id"] } });
    const given = await request(app).get("/nope").set(AUTH).set("X-Correlation-ID", "abc-123");
    expect(given.status).toBe(404);
    expect(given.headers["x-correlation-id"]).toBe("abc-123");
  });
});
