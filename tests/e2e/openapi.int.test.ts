import request from "supertest";
import type { Express } from "express";
import { closedPort, createTestEnv, type TestEnv } from "@herald/testkit";
import { startGateway } from "../support/gateway";
import { startApi } from "../support/system";

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Not API routes: liveness, readiness, metrics, and the documentation itself. */
const INFRASTRUCTURE = new Set(["/health", "/health/ready", "/metrics", "/openapi.json", "/docs", "/docs/", "/docs/herald-init.js"]);

/** Every method + path registered on an express app, nested routers included, in OpenAPI syntax. */
function registeredRoutes(app: Express): string[] {
  const found = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          if (INFRASTRUCTURE.has(path)) continue;
          for (const method of Object.keys(layer.route.methods)) {
            if (method !== "_all") found.add(`${method.toUpperCase()} ${path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
          }
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...found].sort();
}

function documented(doc: { paths: Record<string, Record<string, unknown>> }): Set<string> {
  return new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`)));
}

/** Every "$ref" in a document. */
function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("the gateway's /openapi.json and /docs", () => {
  let env: TestEnv;
  let app: Express;
  let services: { users: Express; templates: Express };
  let templateServiceUrl: string;

  beforeAll(async () => {
    env = await createTestEnv();
    const api = await startApi(env);
    ({ app, services } = api);
    templateServiceUrl = api.runtime.config.services.templateServiceUrl;
  });

  afterAll(() => env.cleanup());

  it("documents every route of the gateway, the user service and the template service (no API key needed)", async () => {
    const res = await request(app).get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body["x-herald-unavailable"]).toBeUndefined();
    const inDoc = documented(res.body);
    const registered = [...registeredRoutes(app), ...registeredRoutes(services.users), ...registeredRoutes(services.templates)];
    expect(registered).toEqual(expect.arrayContaining(["POST /notifications/send", "POST /users", "POST /templates", "POST /events", "DELETE /routing-rules/{type}"]));
    expect(registered.filter((route) => !inDoc.has(route))).toEqual([]);

    // Every reference resolves, and a bulk item is a send body.
    for (const ref of refs(res.body)) {
      const [, , section, name] = ref.split("/");
      expect(res.body.components[section!]?.[name!]).toBeDefined();
    }
    const bulk = res.body.paths["/notifications/send-bulk"].post.requestBody.content["application/json"].schema;
    expect(bulk.properties.notifications.items).toEqual({ $ref: "#/components/schemas/SendRequest" });
    expect(res.body.components.schemas.SendRequest.properties.send_at.format).toBe("date-time");
    expect(res.body.components.securitySchemes.apiKey).toMatchObject({ type: "apiKey", in: "header", name: "X-API-Key" });
  });

  it("serves an interactive reference at /docs from local files", async () => {
    const page = await request(app).get("/docs");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.text).toContain("/docs/swagger-ui-bundle.js");
    const init = await request(app).get("/docs/herald-init.js");
    expect(init.text).toContain('url: "/openapi.json"');
    for (const file of ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"]) {
      const asset = await request(app).get(`/docs/${file}`);
      expect(asset.status).toBe(200);
      expect(asset.body.length ?? asset.text.length).toBeGreaterThan(1000);
    }
    expect((await request(app).get("/docs/no-such-file.js")).status).toBe(404);
  });

  it("serves what it has when a service is down, and says which one", async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const { app: lonely } = await startGateway(env, { USER_SERVICE_URL: down, TEMPLATE_SERVICE_URL: templateServiceUrl });
    const res = await request(lonely).get("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body["x-herald-unavailable"]).toEqual([expect.objectContaining({ service: "user-service", url: `${down}/openapi.json` })]);
    expect(res.body.info.description).toContain("user-service");
    expect(res.body.paths["/notifications/send"]).toBeDefined();
    expect(res.body.paths["/templates"]).toBeDefined();
    expect(res.body.paths["/users"]).toBeUndefined();
  });
});
