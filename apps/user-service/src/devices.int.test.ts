import request from "supertest";
import type { Express } from "express";
import { TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { UserDirectory, UserService } from "@herald/users";
import { createUserServiceApp } from "./server";

const AUTH = { "X-API-Key": TEST_API_KEY };
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;

describe("user service: devices and webhook secrets", () => {
  let env: TestEnv;
  let app: Express;
  let directory: UserDirectory;

  beforeAll(async () => {
    env = await createTestEnv();
    app = createUserServiceApp(await env.openRuntime("user-service", {}, { waitForBroker: false }));
    directory = new UserDirectory(env.db, env.redis);
  });

  afterAll(() => env.cleanup());

  const newUser = async (fields: Record<string, unknown> = {}) => {
    const res = await request(app).post("/users").set(AUTH).send(fields);
    expect(res.status).toBe(201);
    return res.body.data as { id: string; webhook_secret?: string };
  };
  const tokensOf = async (ref: string) => ((await directory.find(ref))?.devices ?? []).map((d) => d.token);

  it("registers a device (201), again is idempotent (200), lists it, and DELETE removes it (204, then 404)", async () => {
    const { id } = await newUser({ external_id: "dev-1" });
    expect(await tokensOf(id)).toEqual([]); // warms the cache the push worker reads

    const first = await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token: "fcm:token-a", platform: "android" });
    expect(first.status).toBe(201);
    expect(first.body.data).toMatchObject({ token: "fcm:token-a", platform: "android" });
    const again = await request(app).post("/users/dev-1/devices").set(AUTH).send({ token: "fcm:token-a", platform: "android" });
    expect(again.status).toBe(200);
    expect(again.body.data.created_at).toBe(first.body.data.created_at);
    await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token: "apns-token-b", platform: "ios" });

    expect(await env.db.prisma.device.count({ where: { userId: id } })).toBe(2);
    expect(await tokensOf(id)).toEqual(["fcm:token-a", "apns-token-b"]);
    expect((await request(app).get(`/users/${id}`).set(AUTH)).body.data.devices).toMatchObject([
      { token: "fcm:token-a", platform: "android" },
      { token: "apns-token-b", platform: "ios" },
    ]);
    expect((await request(app).get(`/users/${id}/devices`).set(AUTH)).body.data).toHaveLength(2);

    expect((await request(app).delete(`/users/${id}/devices/${encodeURIComponent("fcm:token-a")}`).set(AUTH)).status).toBe(204);
    const missing = await request(app).delete(`/users/${id}/devices/${encodeURIComponent("fcm:token-a")}`).set(AUTH);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect(await tokensOf(id)).toEqual(["apns-token-b"]);
  });

  it("moves a token to the newest user that registers it and invalidates both users' cached profiles", async () => {
    const alice = await newUser({ external_id: "alice" });
    const bob = await newUser({ external_id: "bob" });
    await request(app).post(`/users/${alice.id}/devices`).set(AUTH).send({ token: "shared-phone", platform: "android" });
    expect(await tokensOf("alice")).toEqual(["shared-phone"]);
    expect(await tokensOf(alice.id)).toEqual(["shared-phone"]);
    expect(await tokensOf(bob.id)).toEqual([]);

    const moved = await request(app).post(`/users/${bob.id}/devices`).set(AUTH).send({ token: "shared-phone", platform: "web" });
    expect(moved.status).toBe(201);
    expect(await tokensOf(alice.id)).toEqual([]);
    expect(await tokensOf("alice")).toEqual([]);
    expect(await tokensOf(bob.id)).toEqual(["shared-phone"]);
    expect(await env.db.prisma.device.findUniqueOrThrow({ where: { token: "shared-phone" } })).toMatchObject({ userId: bob.id, platform: "web" });
    // DELETE through the former owner is a 404: the token is not theirs any more, and stays with bob.
    expect((await request(app).delete(`/users/${alice.id}/devices/shared-phone`).set(AUTH)).status).toBe(404);
    expect(await env.db.prisma.device.count({ where: { token: "shared-phone" } })).toBe(1);

    // The original API's way (push_token in preferences) moves it the same way.
    const viaPrefs = await request(app).put(`/users/${alice.id}/preferences`).set(AUTH).send({ push_token: "shared-phone", push_platform: "ios" });
    expect(viaPrefs.status).toBe(200);
    expect(await tokensOf(alice.id)).toEqual(["shared-phone"]);
    expect(await tokensOf(bob.id)).toEqual([]);
  });

  it("400 for a bad device body, 404 for an unknown or deleted user; nothing written", async () => {
    const { id } = await newUser();
    for (const body of [{ token: "t1", platform: "blackberry" }, { platform: "ios" }, { token: "", platform: "ios" }, { token: "x".repeat(4097), platform: "web" }, { token: "t1", platform: "ios", extra: 1 }]) {
      const res = await request(app).post(`/users/${id}/devices`).set(AUTH).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    expect((await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token: "t1", platform: "blackberry" })).body.error.details[0].field).toBe("platform");
    expect((await request(app).post("/users/nobody/devices").set(AUTH).send({ token: "t-nobody", platform: "ios" })).status).toBe(404);
    expect((await request(app).delete("/users/nobody/devices/t-nobody").set(AUTH)).status).toBe(404);
    expect((await request(app).get("/users/nobody/devices").set(AUTH)).status).toBe(404);
    await request(app).delete(`/users/${id}`).set(AUTH);
    expect((await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token: "t-deleted", platform: "ios" })).status).toBe(404);
    expect(await env.db.prisma.device.count({ where: { token: { in: ["t1", "t-nobody", "t-deleted"] } } })).toBe(0);
  });

  it("DELETE of a user erases their devices", async () => {
    const { id } = await newUser({ email: "phone-owner@example.com" });
    await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token: "erase-me", platform: "ios" });
    expect((await request(app).delete(`/users/${id}`).set(AUTH)).status).toBe(204);
    expect(await env.db.prisma.device.count({ where: { userId: id } })).toBe(0);
    expect(await directory.find(id)).toBeUndefined();
  });

  it("UserService.removeDevices (for workers) removes only tokens the user still has and invalidates the cache", async () => {
    const users = new UserService(env.db, directory);
    const { id } = await newUser({ external_id: "worker-user" });
    const other = await newUser();
    for (const token of ["dead-1", "dead-2", "alive"]) await request(app).post(`/users/${id}/devices`).set(AUTH).send({ token, platform: "android" });
    await request(app).post(`/users/${other.id}/devices`).set(AUTH).send({ token: "others", platform: "android" });
    expect(await tokensOf("worker-user")).toEqual(["dead-1", "dead-2", "alive"]);

    expect(await users.removeDevices(id, ["dead-1", "dead-2", "others", "never-registered"])).toBe(2);
    expect(await tokensOf(id)).toEqual(["alive"]);
    expect(await tokensOf("worker-user")).toEqual(["alive"]);
    expect(await users.removeDevice(id, "alive")).toBe(true);
    expect(await users.removeDevice(id, "alive")).toBe(false);
    expect(await users.removeDevices("01900000-0000-7000-8000-000000000000", ["others"])).toBe(0);
    expect(await tokensOf(other.id)).toEqual(["others"]);
  });

  it("generates a webhook signing secret once, never shows it on reads, rotates it, and clears it with the URL", async () => {
    const created = await newUser({ external_id: "hooked", webhook_url: "https://receiver.example.com/herald" });
    expect(created.webhook_secret).toMatch(SECRET);
    const stored = async () => (await env.db.prisma.user.findUniqueOrThrow({ where: { id: created.id } })).webhookSecret;
    expect(await stored()).toBe(created.webhook_secret);

    const got = await request(app).get(`/users/${created.id}`).set(AUTH);
    expect(got.body.data.webhook_url).toBe("https://receiver.example.com/herald");
    expect(JSON.stringify(got.body)).not.toContain("whsec_");
    expect(JSON.stringify(await directory.find(created.id))).not.toContain("whsec_");
    expect(JSON.stringify((await request(app).get("/users?external_id=hooked").set(AUTH)).body)).not.toContain("whsec_");

    const changedUrl = await request(app).patch(`/users/${created.id}`).set(AUTH).send({ webhook_url: "https://other.example.com/hook" });
    expect(changedUrl.status).toBe(200);
    expect(changedUrl.body.data.webhook_secret).toBeUndefined();
    expect(await stored()).toBe(created.webhook_secret);

    const rotated = await request(app).post("/users/hooked/webhook-secret/rotate").set(AUTH);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data).toEqual({ id: created.id, webhook_secret: expect.stringMatching(SECRET), previous_secret_expires_at: expect.any(String) });
    expect(rotated.body.data.webhook_secret).not.toBe(created.webhook_secret);
    expect(await stored()).toBe(rotated.body.data.webhook_secret);
    // The replaced secret keeps signing for 24 h by default.
    const row = await env.db.prisma.user.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.webhookSecretPrevious).toBe(created.webhook_secret);
    const left = row.webhookSecretPreviousExpiresAt!.getTime() - Date.now();
    expect(left).toBeGreaterThan(23 * 3_600_000);
    expect(left).toBeLessThanOrEqual(24 * 3_600_000);
    const atOnce = await request(app).post("/users/hooked/webhook-secret/rotate").set(AUTH).send({ keep_previous_for: 0 });
    expect(atOnce.body.data.previous_secret_expires_at).toBeNull();
    expect((await env.db.prisma.user.findUniqueOrThrow({ where: { id: created.id } })).webhookSecretPrevious).toBeNull();
    expect((await request(app).post("/users/hooked/webhook-secret/rotate").set(AUTH).send({ keep_previous_for: "soon" })).status).toBe(400);

    const cleared = await request(app).patch(`/users/${created.id}`).set(AUTH).send({ webhook_url: null });
    expect(cleared.body.data.webhook_url).toBeNull();
    expect(await stored()).toBeNull();
    expect((await env.db.prisma.user.findUniqueOrThrow({ where: { id: created.id } })).webhookSecretPrevious).toBeNull();
    const noUrl = await request(app).post(`/users/${created.id}/webhook-secret/rotate`).set(AUTH);
    expect(noUrl.status).toBe(409);
    expect(noUrl.body.error.code).toBe("conflict");
    expect(await stored()).toBeNull();

    const again = await request(app).patch(`/users/${created.id}`).set(AUTH).send({ webhook_url: "https://receiver.example.com/v2" });
    expect(again.body.data.webhook_secret).toMatch(SECRET);
    expect(await stored()).toBe(again.body.data.webhook_secret);

    expect((await request(app).post("/users/nobody/webhook-secret/rotate").set(AUTH)).status).toBe(404);
  });

  it("a webhook_url added by PATCH to a user without one makes the secret; concurrent PATCHes answer the one kept", async () => {
    const { id } = await newUser();
    const answers = await Promise.all(
      [1, 2, 3].map((n) => request(app).patch(`/users/${id}`).set(AUTH).send({ webhook_url: `https://r${n}.example.com/hook` })),
    );
    const secrets = answers.map((a) => a.body.data.webhook_secret as string | undefined).filter((s) => s !== undefined);
    expect(secrets).toHaveLength(1);
    expect((await env.db.prisma.user.findUniqueOrThrow({ where: { id } })).webhookSecret).toBe(secrets[0]);
  });

  it("DELETE of a user erases the webhook URL and secret", async () => {
    const { id } = await newUser({ webhook_url: "http://127.0.0.1:9/hook", slack_webhook_url: "https://hooks.slack.com/services/T/B/C" });
    await request(app).delete(`/users/${id}`).set(AUTH);
    expect(await env.db.prisma.user.findUniqueOrThrow({ where: { id } })).toMatchObject({ webhookUrl: null, webhookSecret: null, slackWebhookUrl: null });
  });
});
