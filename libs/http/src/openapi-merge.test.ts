import http from "node:http";
import type { AddressInfo } from "node:net";
import { mergeOpenApi, OpenApiAggregator, type OpenApiDoc } from "./openapi-merge";

const doc = (paths: string[], schema?: string): OpenApiDoc => ({
  openapi: "3.1.0",
  info: { title: "t", version: "1" },
  paths: Object.fromEntries(paths.map((p) => [p, { get: { summary: p } }])),
  components: { schemas: schema ? { [schema]: { type: "object" } } : {}, securitySchemes: { apiKey: { type: "apiKey" } } },
  tags: [{ name: paths[0]! }],
});

describe("mergeOpenApi", () => {
  it("unions paths (methods of one path too), components and tags; keeps the base's info", () => {
    const base = doc(["/a"], "A");
    const other = { ...doc(["/b"], "B"), paths: { "/a": { post: { summary: "post a" } }, "/b": { get: { summary: "b" } } } };
    const merged = mergeOpenApi(base, [other]);
    expect(Object.keys(merged.paths!).sort()).toEqual(["/a", "/b"]);
    expect(Object.keys(merged.paths!["/a"]!).sort()).toEqual(["get", "post"]);
    expect(Object.keys(merged.components!.schemas!).sort()).toEqual(["A", "B"]);
    expect(merged.tags!.map((t) => t.name)).toEqual(["/a", "/b"]);
    expect(merged.info.title).toBe("t");
    expect(base.paths!["/b"]).toBeUndefined();
  });
});

describe("OpenApiAggregator", () => {
  let server: http.Server;
  let url: string;
  let answers = 0;
  let up = true;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      answers += 1;
      if (!up) {
        res.writeHead(503).end();
        return;
      }
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(doc(["/remote"])));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/openapi.json`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("fetches once per ttl, then serves the last good document marked unavailable while the service is down", async () => {
    const aggregator = new OpenApiAggregator([{ name: "remote", url }], { title: "All", ttlMs: 50 });
    const first = await aggregator.document(doc(["/own"]));
    expect(Object.keys(first.paths!).sort()).toEqual(["/own", "/remote"]);
    expect(first.info.title).toBe("All");
    expect(first["x-herald-unavailable"]).toBeUndefined();
    await aggregator.document(doc(["/own"]));
    expect(answers).toBe(1);

    up = false;
    await new Promise((r) => setTimeout(r, 60));
    const stale = await aggregator.document(doc(["/own"]));
    expect(answers).toBe(2);
    expect(Object.keys(stale.paths!).sort()).toEqual(["/own", "/remote"]);
    expect(stale["x-herald-unavailable"]).toEqual([{ service: "remote", url, error: "HTTP 503" }]);
    expect(stale.info.description).toContain("remote (HTTP 503)");
  });
});
