import request from "supertest";
import type { Express } from "express";
import { TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { UserDirectory } from "@herald/users";
import { createUserServiceApp } from "./server";

const AUTH = { "X-API-Key": TEST_API_KEY };

describe("user service", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv();
    app = createUserServiceApp(await env.openRuntime("user-service", {}, { waitForBroker: false }));
  });

  afterAll(() => env.cleanup());

  it("creates, reads (by id and external_id), updates and deletes a user", async () => {
    const created = await request(app).post("/users").set(AUTH).send({ external_id: "u-1", name: "Ada", email: "ada@example.com", phone: "+14155550123" });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    expect(created.body.data).toMatchObject({ external_id: "u-1", email: "ada@example.com", language: "en", preferences: { email_enabled: true } });

    expect((await request(app).get(`/users/${id}`).set(AUTH)).body.data.id).toBe(id);
    expect((await request(app).get("/users/u-1").set(AUTH)).body.data.id).toBe(id);

    const patched = await request(app).patch(`/users/${id}`).set(AUTH).send({ email: "ada@new.example.com", phone: null });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ email: "ada@new.example.com", phone: null });
    expect((await request(app).get("/users/u-1").set(AUTH)).body.data.email).toBe("ada@new.example.com");

    expect((await request(app).delete(`/users/${id}`).set(AUTH)).status).toBe(204);
    expect((await request(app).get(`/users/${id}`).set(AUTH)).status).toBe(404);
    const row = await env.db.prisma.user.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ email: null, phone: null, name: null, externalId: null });
    expect(row.deletedAt).not.toBeNull();
  });

  it("validates email, E.164 phone, time zone and unknown fields; 409 on a taken external_id", async () => {
    const bad = await request(app).post("/users").set(AUTH).send({ email: "not-an-email", phone: "0612345678", timezone: "Mars/Base", nickname: "x" });
    expect(bad.status).toBe(400);
    const fields = (bad.body.error.details as { field: string }[]).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["email", "phone", "timezone", "(body)"]));
    await request(app).post("/users").set(AUTH).send({ external_id: "taken" });
    const again = await request(app).post("/users").set(AUTH).send({ external_id: "taken" });
    expect(again.status).toBe(409);
    expect(await env.db.prisma.user.count({ where: { externalId: "taken" } })).toBe(1);
  });

  it("keeps the fields a preferences PUT leaves out, and invalidates the cache the gateway reads", async () => {
    const id = (await request(app).post("/users").set(AUTH).send({ email: "p@example.com" })).body.data.id as string;
    const directory = new UserDirectory(env.db, env.redis);
    expect((await directory.find(id))?.preferences.email_enabled).toBe(true);
    const put = await request(app)
      .put(`/users/${id}/preferences`)
      .set(AUTH)
      .send({ email_enabled: false, quiet_hours: { start: "22:00", end: "07:00", timezone: "Europe/Paris" } });
    expect(put.status).toBe(200);
    expect(put.body.data).toMatchObject({ email_enabled: false, sms_enabled: true, quiet_hours: { start: "22:00", end: "07:00", timezone: "Europe/Paris" } });
    const second = await request(app).put(`/users/${id}/preferences`).set(AUTH).send({ sms_enabled: false });
    expect(second.body.data).toMatchObject({ email_enabled: false, sms_enabled: false });
    expect((await directory.find(id))?.preferences).toMatchObject({ email_enabled: false, sms_enabled: false });
    expect((await request(app).get(`/users/${id}/preferences`).set(AUTH)).body.data.email_enabled).toBe(false);
    const invalid = await request(app).put(`/users/${id}/preferences`).set(AUTH).send({ quiet_hours: { start: "25:00", end: "07:00" } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details[0].field).toBe("quiet_hours.start");
  });

  it("the directory (the send path's own SQL) reads the same profile the service answers; an id wins over an equal external_id", async () => {
    const created = await request(app)
      .post("/users")
      .set(AUTH)
      .send({ external_id: "dir-1", name: "Grace", email: "g@example.com", phone: "+14155550100", language: "fr", timezone: "Europe/Paris" });
    const id = created.body.data.id as string;
    for (const [token, platform] of [["dir-tok-1", "ios"], ["dir-tok-2", "web"]]) {
      expect((await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token, platform })).status).toBe(201);
    }
    expect((await request(app).put(`/users/${id}/preferences`).set(AUTH).send({ sms_enabled: false, quiet_hours: { start: "22:00", end: "07:00" } })).status).toBe(200);
    // The list is built from Prisma rows: the reference the directory's SQL must match.
    const [served] = (await request(app).get("/users?external_id=dir-1").set(AUTH)).body.data;
    const directory = new UserDirectory(env.db, env.redis);
    for (const ref of [id, "dir-1"]) expect(await directory.load(ref)).toEqual(served);
    expect(served.devices.map((d: { token: string }) => d.token)).toEqual(["dir-tok-1", "dir-tok-2"]);
    expect(served.preferences).toMatchObject({ sms_enabled: false, quiet_hours: { start: "22:00", end: "07:00", timezone: "Europe/Paris" } });

    const plain = (await request(app).post("/users").set(AUTH).send({})).body.data;
    const listed = (await request(app).get("/users?limit=100").set(AUTH)).body.data as { id: string }[];
    expect(await directory.load(plain.id)).toEqual(listed.find((u) => u.id === plain.id));
    const impostor = (await request(app).post("/users").set(AUTH).send({ external_id: id, name: "Impostor" })).body.data;
    expect((await directory.load(id))?.name).toBe("Grace");
    expect((await request(app).delete(`/users/${id}`).set(AUTH)).status).toBe(204);
    expect((await directory.load(id))?.id).toBe(impostor.id);
    expect(await directory.load("dir-1")).toBeUndefined();
  });

  it("lists users oldest first with a cursor, leaves deleted users out, filters by email and external_id", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      ids.push((await request(app).post("/users").set(AUTH).send({ external_id: `list-${n}`, email: `list${n}@example.com` })).body.data.id as string);
    }
    expect((await request(app).delete(`/users/${ids[2]}`).set(AUTH)).status).toBe(204);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await request(app).get("/users").query({ limit: 2, ...(cursor ? { cursor } : {}) }).set(AUTH);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...(page.body.data as { id: string }[]).map((u) => u.id));
      cursor = page.body.meta.next_cursor as string | undefined;
      pages += 1;
    } while (cursor && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    expect(seen.length).toBe(await env.db.prisma.user.count({ where: { deletedAt: null } }));
    expect(seen).toEqual(expect.arrayContaining([ids[0], ids[1], ids[3], ids[4]]));
    expect(seen).not.toContain(ids[2]);

    const byEmail = await request(app).get("/users?email=LIST4@Example.com").set(AUTH);
    expect(byEmail.body.data.map((u: { id: string }) => u.id)).toEqual([ids[3]]);
    const byExternal = await request(app).get("/users?external_id=list-2").set(AUTH);
    expect(byExternal.body.data.map((u: { id: string }) => u.id)).toEqual([ids[1]]);
    expect((await request(app).get("/users?external_id=list-3").set(AUTH)).body.data).toEqual([]);
    const all = await request(app).get("/users").set(AUTH);
    expect(all.body.meta.next_cursor).toBeUndefined();
  });

  it("matches the email filter literally (no LIKE wildcards)", async () => {
    const literal = (await request(app).post("/users").set(AUTH).send({ email: "wild_card@example.com" })).body.data.id as string;
    await request(app).post("/users").set(AUTH).send({ email: "wildXcard@example.com" });
    const res = await request(app).get("/users").query({ email: "wild_card@example.com" }).set(AUTH);
    expect(res.body.data.map((u: { id: string }) => u.id)).toEqual([literal]);
    const percent = await request(app).get("/users").query({ email: "wild%" }).set(AUTH);
    expect(percent.body.data).toEqual([]);
  });

  it("400 for a bad limit, a cursor it did not give, or an unknown filter", async () => {
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=ten", "limit"],
      ["cursor=not-a-cursor", "cursor"],
    ] as const) {
      const res = await request(app).get(`/users?${query}`).set(AUTH);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details[0].field).toBe(field);
    }
    const unknown = await request(app).get("/users?phone=%2B14155550123").set(AUTH);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].message).toContain("phone");
  });

  it("PATCH: 400 for bad values, 404 for an unknown user, 409 for a taken external_id; nothing is written", async () => {
    const id = (await request(app).post("/users").set(AUTH).send({ external_id: "patch-me", email: "patch@example.com", phone: "+14155550100" })).body.data.id as string;
    await request(app).post("/users").set(AUTH).send({ external_id: "patch-other" });
    const before = await env.db.prisma.user.findUniqueOrThrow({ where: { id } });

    const bad = await request(app)
      .patch(`/users/${id}`)
      .set(AUTH)
      .send({ email: "nope", phone: "+0123", language: "English", timezone: "Nowhere/City", slack_webhook_url: "http://hooks.example.com/x", webhook_url: "ftp://x.example.com" });
    expect(bad.status).toBe(400);
    expect((bad.body.error.details as { field: string }[]).map((d) => d.field).sort()).toEqual(["email", "language", "phone", "slack_webhook_url", "timezone", "webhook_url"]);
    const taken = await request(app).patch(`/users/${id}`).set(AUTH).send({ external_id: "patch-other", name: "Changed" });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("conflict");
    expect((await request(app).patch("/users/nobody-here").set(AUTH).send({ name: "x" })).status).toBe(404);
    expect((await request(app).patch(`/users/${id}`).set(AUTH).send({ nickname: "x" })).status).toBe(400);

    expect(await env.db.prisma.user.findUniqueOrThrow({ where: { id } })).toEqual(before);
  });

  it("POST: 400 for a bad slack_webhook_url or preferences, nothing written; preferences and push_token apply on create", async () => {
    const count = await env.db.prisma.user.count();
    const bad = await request(app)
      .post("/users")
      .set(AUTH)
      .send({ email: "x@example.com", slack_webhook_url: "http://hooks.slack.com/services/T/B/X", preferences: { sms_enabled: "yes", push_platform: "blackberry" } });
    expect(bad.status).toBe(400);
    expect((bad.body.error.details as { field: string }[]).map((d) => d.field).sort()).toEqual(["preferences.push_platform", "preferences.sms_enabled", "slack_webhook_url"]);
    expect(await env.db.prisma.user.count()).toBe(count);

    const created = await request(app)
      .post("/users")
      .set(AUTH)
      .send({
        email: "prefs@example.com",
        slack_webhook_url: "https://hooks.slack.com/services/T000/B000/XXXX",
        preferences: { sms_enabled: false, language: "pt-BR", timezone: "America/Sao_Paulo", push_token: "tok-on-create", push_platform: "ios", quiet_hours: { start: "21:30", end: "06:00" } },
      });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      language: "pt-BR",
      timezone: "America/Sao_Paulo",
      slack_webhook_url: "https://hooks.slack.com/services/T000/B000/XXXX",
      preferences: { sms_enabled: false, email_enabled: true, quiet_hours: { start: "21:30", end: "06:00", timezone: "America/Sao_Paulo" } },
      devices: [{ token: "tok-on-create", platform: "ios" }],
    });
    expect(created.body.data.webhook_secret).toBeUndefined();
  });

  it("404 for every route of an unknown or deleted user", async () => {
    const id = (await request(app).post("/users").set(AUTH).send({ external_id: "gone-soon" })).body.data.id as string;
    expect((await request(app).delete(`/users/${id}`).set(AUTH)).status).toBe(204);
    for (const ref of [id, "gone-soon", "never-was"]) {
      expect((await request(app).get(`/users/${ref}`).set(AUTH)).status).toBe(404);
      expect((await request(app).delete(`/users/${ref}`).set(AUTH)).status).toBe(404);
      expect((await request(app).get(`/users/${ref}/preferences`).set(AUTH)).status).toBe(404);
      const put = await request(app).put(`/users/${ref}/preferences`).set(AUTH).send({ email_enabled: false });
      expect(put.status).toBe(404);
      expect(put.body.error.code).toBe("not_found");
    }
    expect(await env.db.prisma.preferences.findUnique({ where: { userId: id } })).toMatchObject({ emailEnabled: true });
  });

  it("documents every route in /openapi.json", async () => {
    const doc = await request(app).get("/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths as Record<string, unknown>).sort()).toEqual(["/users", "/users/{id}", "/users/{id}/devices", "/users/{id}/devices/{token}", "/users/{id}/preferences", "/users/{id}/webhook-secret/rotate"]);
  });
});
