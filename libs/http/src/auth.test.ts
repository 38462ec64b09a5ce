import request from "supertest";
import { createLogger } from "@herald/logger";
import { createHttpApp } from "./app";
import { callerOf } from "./auth";
import { send } from "./envelope";
import { createRegistry } from "./metrics";

describe("API keys with roles", () => {
  const app = createHttpApp({
    service: "test",
    logger: createLogger({ service: "test", silent: true }),
    registry: createRegistry("test"),
    checks: {},
    apiKeys: ["admin-key", "viewer-key"],
    readOnlyKeys: ["viewer-key"],
    readOnlyPosts: [/^\/things\/[^/]+\/preview$/],
    routes: (api) => {
      api.route({ method: "get", path: "/things", tag: "T", summary: "read" }, ({ res }) => send(res, callerOf(res)));
      api.route({ method: "post", path: "/things", tag: "T", summary: "write", status: 201 }, ({ res }) => send(res, callerOf(res), { status: 201 }));
      api.route({ method: "delete", path: "/things/:id", tag: "T", summary: "delete", status: 204 }, ({ res }) => void res.status(204).end());
      api.route({ method: "post", path: "/things/:id/preview", tag: "T", summary: "render" }, ({ res }) => send(res, { rendered: true }));
    },
  });

  it("names the caller by a fingerprint of its key and its role, never the key", async () => {
    const admin = await request(app).get("/things").set("X-API-Key", "admin-key");
    expect(admin.body.data).toEqual({ id: expect.stringMatching(/^[0-9a-f]{12}$/), role: "admin" });
    const viewer = await request(app).get("/things").set("Authorization", "Bearer viewer-key");
    expect(viewer.body.data).toEqual({ id: expect.stringMatching(/^[0-9a-f]{12}$/), role: "read" });
    expect(viewer.body.data.id).not.toBe(admin.body.data.id);
    expect(JSON.stringify(viewer.body)).not.toContain("viewer-key");
  });

  it("refuses every write of a read-only key with 403 forbidden, before the route runs", async () => {
    const post = await request(app).post("/things").set("X-API-Key", "viewer-key").send({});
    expect(post.status).toBe(403);
    expect(post.body.error).toEqual({ code: "forbidden" });
    expect((await request(app).delete("/things/1").set("X-API-Key", "viewer-key")).status).toBe(403);
    expect((await request(app).patch("/things/1").set("X-API-Key", "viewer-key").send({})).status).toBe(403);
    expect((await request(app).post("/things").set("X-API-Key", "admin-key").send({})).status).toBe(201);
    expect((await request(app).delete("/things/1").set("X-API-Key", "admin-key")).status).toBe(204);
  });

  it("lets a read-only key use a POST that only reads (a preview), and still 401s a wrong key", async () => {
    expect((await request(app).post("/things/1/preview").set("X-API-Key", "viewer-key").send({})).status).toBe(200);
    expect((await request(app).post("/things/1/preview/x").set("X-API-Key", "viewer-key").send({})).status).toBe(403);
    expect((await request(app).get("/things").set("X-API-Key", "nope")).status).toBe(401);
  });

  it("documents 403 on writes in /openapi.json", async () => {
    const doc = (await request(app).get("/openapi.json")).body;
    expect(doc.paths["/things"].post.responses["403"]).toBeDefined();
    expect(doc.paths["/things"].get.responses["403"]).toBeUndefined();
  });
});
