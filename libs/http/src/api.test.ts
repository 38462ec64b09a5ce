import request from "supertest";
import { z } from "zod";
import { createLogger } from "@herald/logger";
import { createHttpApp } from "./app";
import { createRegistry } from "./metrics";
import { send } from "./envelope";

describe("routes registered through Api", () => {
  const app = createHttpApp({
    service: "test",
    logger: createLogger({ service: "test", silent: true }),
    registry: createRegistry("test"),
    checks: {},
    apiKeys: ["k"],
    routes: (api) => {
      api.route(
        { method: "post", path: "/things/:id", tag: "Things", summary: "Make a thing", params: z.object({ id: z.string().uuid() }), body: z.object({ size: z.number().int() }), status: 201 },
        ({ params, body, res }) => send(res, { id: params.id, size: body.size }, { status: 201 }),
      );
      api.route({ method: "get", path: "/things", tag: "Things", summary: "List things", query: z.object({ limit: z.coerce.number().max(5).default(2) }) }, ({ query, res }) =>
        send(res, { limit: query.limit }),
      );
    },
  });

  it("validates params, query and body from the spec", async () => {
    const bad = await request(app).post("/things/nope").set("X-API-Key", "k").send({ size: "big" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(["id"]);
    const badBody = await request(app).post("/things/3f0b2a4e-5c6d-4e7f-8a9b-0c1d2e3f4a5b").set("X-API-Key", "k").send({ size: "big" });
    expect(badBody.body.error.details.map((d: { field: string }) => d.field)).toEqual(["size"]);
    const ok = await request(app).get("/things?limit=3").set("X-API-Key", "k");
    expect(ok.body.data).toEqual({ limit: 3 });
  });

  it("describes every route in /openapi.json, without an API key", async () => {
    const res = await request(app).get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths).sort()).toEqual(["/things", "/things/{id}"]);
    const post = res.body.paths["/things/{id}"].post;
    expect(post.requestBody.content["application/json"].schema.properties.size.type).toBe("integer");
    expect(post.responses["201"]).toBeDefined();
    expect(post.parameters[0]).toMatchObject({ in: "path", name: "id" });
  });
});
