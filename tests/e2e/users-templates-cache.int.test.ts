import request from "supertest";
import { createRedis, type Redis } from "@herald/cache";
import { TemplateCatalog, TemplateService } from "@herald/templates";
import { TEST_API_KEY, TcpProxy, closedPort, createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import { UserDirectory, UserService } from "@herald/users";
import { createUserServiceApp } from "../../apps/user-service/src/server";
import { createTemplateServiceApp } from "../../apps/template-service/src/server";

const AUTH = { "X-API-Key": TEST_API_KEY };

/** Redis is an accelerator: with it unreachable, users and templates are read from PostgreSQL and writes still work. */
describe("users and templates without Redis", () => {
  let env: TestEnv;
  const proxy = new TcpProxy("127.0.0.1", 6379);

  beforeAll(async () => {
    env = await createTestEnv();
  });

  afterAll(async () => {
    await env.cleanup();
    await proxy.stop();
  });

  it("UserDirectory, UserService, TemplateCatalog and TemplateService answer from PostgreSQL when Redis is unreachable", async () => {
    const deadRedis = createRedis({ url: `redis://127.0.0.1:${await closedPort()}`, keyPrefix: env.config.redis.keyPrefix });
    try {
      await withoutRedis(deadRedis);
    } finally {
      deadRedis.disconnect();
    }
  });

  async function withoutRedis(deadRedis: Redis): Promise<void> {
    const directory = new UserDirectory(env.db, deadRedis);
    const users = new UserService(env.db, directory);
    const created = await users.create({ external_id: "no-cache", email: "nc@example.com" });
    expect((await directory.find(created.id))?.email).toBe("nc@example.com");
    expect((await directory.find("no-cache"))?.id).toBe(created.id);
    await users.update(created.id, { email: "nc2@example.com" });
    expect((await directory.find("no-cache"))?.email).toBe("nc2@example.com");
    await users.addDevice(created.id, { token: "nc-token", platform: "web" });
    expect((await directory.find(created.id))?.devices.map((d) => d.token)).toEqual(["nc-token"]);

    const catalog = new TemplateCatalog(env.db, deadRedis);
    const templates = new TemplateService(env.db, catalog);
    await templates.create({ template_id: "nc", name: "No cache", channel: "sms", language: "en", body_text: "Hi {{name}}", variables: ["name"] });
    await templates.update("nc", { channel: "sms", language: "en", body_text: "Hello {{name}}", variables: ["name"] });
    expect((await catalog.get("nc"))?.variants[0]?.body_text).toBe("Hello {{name}}");
    expect((await catalog.resolve("nc", "sms", ["pt-BR"]))?.version).toBe(2);
    expect((await catalog.resolve("nc", "sms", ["en"], 1))?.body_text).toBe("Hi {{name}}");
    expect((await templates.preview("nc", { variables: { name: "Ada" } })).preview.body_text).toBe("Hello Ada");
  }

  it("the services answer while Redis goes away, and no stale cache entry outlives the outage", async () => {
    const port = await proxy.start();
    const overrides = { REDIS_URL: `redis://127.0.0.1:${port}` };
    const userApp = createUserServiceApp(await env.openRuntime("user-service", overrides, { waitForBroker: false }));
    const templateApp = createTemplateServiceApp(await env.openRuntime("template-service", overrides, { waitForBroker: false }));

    const id = (await request(userApp).post("/users").set(AUTH).send({ external_id: "flaky", email: "before@example.com" })).body.data.id as string;
    expect((await request(userApp).get(`/users/${id}`).set(AUTH)).body.data.email).toBe("before@example.com");
    expect(await env.redis.exists(`user:${id}`)).toBe(1);
    await request(templateApp).post("/templates").set(AUTH).send({ template_id: "flaky", name: "Flaky", channel: "sms", body_text: "v1 {{name}}", variables: ["name"] });
    expect((await request(templateApp).get("/templates/flaky").set(AUTH)).status).toBe(200);
    expect(await env.redis.exists("template:flaky")).toBe(1);

    await proxy.stop();
    try {
      expect((await request(userApp).get(`/users/${id}`).set(AUTH)).status).toBe(200);
      const patched = await request(userApp).patch("/users/flaky").set(AUTH).send({ email: "during@example.com" });
      expect(patched.status).toBe(200);
      expect((await request(userApp).get(`/users/${id}`).set(AUTH)).body.data.email).toBe("during@example.com");
      expect((await request(userApp).post("/users").set(AUTH).send({ email: "new@example.com" })).status).toBe(201);
      expect((await request(userApp).get("/users?external_id=flaky").set(AUTH)).status).toBe(200);
      expect((await request(userApp).post(`/users/${id}/devices`).set(AUTH).send({ token: "during", platform: "ios" })).status).toBe(201);
      expect((await request(userApp).get("/health/ready")).status).toBe(503);

      expect((await request(templateApp).put("/templates/flaky").set(AUTH).send({ channel: "sms", body_text: "v2 {{name}}", variables: ["name"] })).status).toBe(200);
      expect((await request(templateApp).get("/templates/flaky").set(AUTH)).body.data.variants[0].body_text).toBe("v2 {{name}}");
      const preview = await request(templateApp).post("/templates/flaky/preview").set(AUTH).send({ variables: { name: "Ada" } });
      expect(preview.body.data.body_text).toBe("v2 Ada");
      // The entries written before the outage are still in Redis: the invalidations could not reach it.
      expect(await env.redis.exists(`user:${id}`)).toBe(1);
    } finally {
      await proxy.start();
    }

    // Once the services reconnect, the invalidations they could not make are made.
    await waitFor(async () => (await env.redis.exists(`user:${id}`, "user:flaky", "template:flaky")) === 0, { what: "pending invalidations" });
    const user = (await request(userApp).get("/users/flaky").set(AUTH)).body.data as { email: string; devices: { token: string }[] };
    expect(user.email).toBe("during@example.com");
    expect(user.devices.map((d) => d.token)).toEqual(["during"]);
    expect((await request(templateApp).get("/templates/flaky").set(AUTH)).body.data.variants[0].body_text).toBe("v2 {{name}}");
  });
});
