import zlib from "node:zlib";
import request from "supertest";
import type { Express } from "express";
import { createHttpApp, createRegistry, listen } from "@herald/http";
import { createLogger } from "@herald/logger";
import { createTestEnv, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, createWelcomeTemplate, sendEmail, startApi } from "../support/system";
import { rawRequest } from "../support/raw-http";

/** The cases the fuzz found (and a few around them), each on its own. */
describe("hostile input, case by case", () => {
  let env: TestEnv;
  let app: Express;
  let port: number;
  let services: { users: Express; templates: Express };
  let userId: string;

  beforeAll(async () => {
    env = await createTestEnv({ HTTP_REQUEST_TIMEOUT: "1s" });
    const api = await startApi(env);
    ({ app, services } = api);
    const http = await listen(app, 0, "127.0.0.1");
    api.runtime.releasers.add("http", () => http.close());
    port = http.port;
    await createWelcomeTemplate(app);
    userId = (await createUser(app)).id;
  });

  afterAll(() => env.cleanup());

  const json = (body: unknown) => Buffer.from(JSON.stringify(body));
  const post = (path: string, body: Buffer, headers: [string, string][]) =>
    rawRequest(port, { method: "POST", target: path, headers: [["X-API-Key", AUTH["X-API-Key"]], ["Content-Type", "application/json"], ...headers], body }, 30_000);
  const envelopeOf = (answer: Awaited<ReturnType<typeof rawRequest>>) => {
    if (answer.kind !== "answer") throw new Error(`no answer: ${JSON.stringify(answer)}`);
    return { status: answer.status, headers: answer.headers, body: JSON.parse(answer.body) as { success: boolean; error: { code: string; details?: { field: string; message: string }[] } } };
  };

  describe("Content-Encoding", () => {
    const user = () => ({ name: "Zipped", email: `zip${Date.now()}${Math.random()}@example.com` });

    it.each([
      ["gzip", zlib.gzipSync],
      ["deflate", zlib.deflateSync],
      ["br", zlib.brotliCompressSync],
    ] as const)("decodes a %s body, on the gateway's routes and the proxied ones", async (encoding, compress) => {
      const created = envelopeOf(await post("/users", compress(json(user())), [["Content-Encoding", encoding]]));
      expect(created.status).toBe(201);
      const sent = envelopeOf(await post("/notifications/send", compress(json({ user_id: userId, channel: "email", template_id: "welcome_email", variables: { name: "Zip" } })), [["Content-Encoding", encoding]]));
      expect(sent.status).toBe(202);
    });

    it.each(["gzip", "deflate", "br"])("answers 400 naming the body when a %s body does not decode (it was sent plain)", async (encoding) => {
      for (const path of ["/notifications/send", "/users", "/templates"]) {
        const answer = envelopeOf(await post(path, json({ user_id: userId }), [["Content-Encoding", encoding]]));
        expect([path, answer.status, answer.body.error.code]).toEqual([path, 400, "validation_failed"]);
        expect(answer.body.error.details).toEqual([expect.objectContaining({ field: "(body)", message: expect.stringContaining("Content-Encoding") })]);
      }
    });

    it("answers 415 for an encoding it does not know, or a stack of them", async () => {
      for (const encoding of ["x-squish", "gzip, gzip", "compress"]) {
        const answer = envelopeOf(await post("/notifications/send", json({}), [["Content-Encoding", encoding]]));
        expect([encoding, answer.status, answer.body.error.code]).toEqual([encoding, 415, "unsupported_media_type"]);
        expect(answer.body.error.details?.[0]?.field).toBe("Content-Encoding");
      }
    });

    it("measures the limit on the decoded body: a small gzip of 5 MB is 413", async () => {
      const bomb = zlib.gzipSync(Buffer.from(`{"user_id":"${"x".repeat(5 * 1024 * 1024)}"}`));
      expect(bomb.length).toBeLessThan(64 * 1024);
      const answer = envelopeOf(await post("/notifications/send", bomb, [["Content-Encoding", "gzip"]]));
      expect([answer.status, answer.body.error.code]).toEqual([413, "payload_too_large"]);
    });
  });

  it.each([
    "/notifications/%ff",
    "/notifications/%ff/cancel",
    "/dlq/%E0%80%80",
    "/routing-rules/%ed%a0%80",
    "/users/%C0%AE",
    "/users/%ff/devices",
    "/templates/%ff",
    "/templates/%C0%AE/versions",
  ])("GET %s (percent-encoding that is not UTF-8) is 400 validation_failed naming the path", async (path) => {
    const res = await request(app).get(path).set(AUTH);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: { code: "validation_failed", details: [{ field: "(path)" }] } });
  });

  describe("strings PostgreSQL cannot store: U+0000 and lone surrogates", () => {
    it.each([
      ["a user's name", "/users", { name: "Ada\u0000" }, "name"],
      ["a user's external_id (lone high surrogate)", "/users", { external_id: "x\ud800" }, "external_id"],
      ["a send's variables", "/notifications/send", { user_id: "u", channel: "email", template_id: "welcome_email", variables: { name: "A\u0000" } }, "variables.name"],
      ["a key of a send's variables", "/notifications/send", { user_id: "u", channel: "email", template_id: "welcome_email", variables: { "k\u0000": 1 } }, 'variables."k\\u0000"'],
      ["an event's data, deep down", "/events", { type: "t", user_id: "u", data: { a: [{ b: "\udfff" }] } }, "data.a.0.b"],
      ["a template's body", "/templates", { template_id: "t", name: "T", channel: "sms", body_text: "Hi\u0000" }, "body_text"],
      ["a bulk item", "/notifications/send-bulk", { notifications: [{ user_id: "\u0000" }] }, "notifications.0.user_id"],
    ])("refuses %s with 400 naming the field", async (_what, path, body, field) => {
      const res = await request(app).post(path).set(AUTH).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it.each([
      ["/notifications?user_id=%00", "user_id"],
      ["/notifications?user_id=a%ED%A0%80", "user_id"],
      ["/notifications?status=%ff", "status"],
      ["/users?email=%00", "email"],
      ["/users?external_id=%ED%B0%80", "external_id"],
      ["/dlq?error_code=x%00", "error_code"],
      ["/sandbox/messages?to=%00", "to"],
      ["/templates/welcome_email?language=%00", "language"],
    ])("refuses the query filter %s with 400 naming %s", async (path, field) => {
      const res = await request(app).get(path).set(AUTH);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it("names the query parameter whose percent-encoding is not UTF-8", async () => {
      const res = await request(app).get("/users?email=x%C0%AE").set(AUTH);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ field: "email", message: "is not valid percent-encoded UTF-8" }]);
      expect((await request(app).get("/users?%ff=1").set(AUTH)).body.error.details).toEqual([{ field: "(query)", message: "is not valid percent-encoded UTF-8" }]);
    });

    it("refuses them in path parameters too", async () => {
      const res = await request(app).get("/users/a%00b").set(AUTH);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: "id" })]);
    });
  });

  it.each(["/sandbox/messages?cursor=abc", "/routing-rules?cursor=AAAAAAAAAAAAAAAAAAAAAA", "/notifications?cursor=abc", "/dlq?cursor=AAAAAAAAAAAAAAAAAAAAAA", "/users?cursor=abc", "/templates?cursor=AAAA"])(
    "GET %s (a cursor no list gave) is 400 naming the cursor",
    async (path) => {
      const res = await request(app).get(path).set(AUTH);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: "cursor" })]);
    },
  );

  describe("nesting", () => {
    const nested = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;

    it("refuses variables nested 100,000 deep with 400 naming the field (the JSON parser does not overflow either)", async () => {
      const body = Buffer.from(`{"user_id":"${userId}","channel":"email","template_id":"welcome_email","variables":{"name":${nested(100_000)}}}`);
      const answer = envelopeOf(await post("/notifications/send", body, []));
      expect(answer.status).toBe(400);
      expect(answer.body.error.details?.[0]).toMatchObject({ field: expect.stringMatching(/^variables\.name(\.0)+$/), message: expect.stringContaining("deeper than 32") });
    });

    it("refuses it on every free-form field and route, the proxied ones included", async () => {
      for (const [path, body] of [
        ["/events", `{"type":"t","user_id":"u","data":{"x":${nested(5000)}}}`],
        ["/templates/welcome_email/preview", `{"variables":{"x":${nested(100_000)}}}`],
        ["/users", `{"name":${nested(40)}}`],
      ] as const) {
        const answer = envelopeOf(await post(path, Buffer.from(body), []));
        expect([path, answer.status]).toEqual([path, 400]);
        expect(answer.body.error.details?.[0]?.message).toContain("deeper than 32");
      }
    });

    it("takes a body 32 levels deep (the body, variables, 30 more), not 33", async () => {
      expect((await sendEmail(app, userId, { variables: { name: "Ada", deep: JSON.parse(nested(30)) } })).status).toBe(202);
      const deeper = await sendEmail(app, userId, { variables: { name: "Ada", deep: JSON.parse(nested(31)) } });
      expect(deeper.status).toBe(400);
      expect(deeper.body.error.details[0].field).toBe(`variables.deep${".0".repeat(30)}`);
    });
  });

  describe("templates", () => {
    const template = (extra: Record<string, unknown> = {}) => ({ template_id: "race", name: "Race", channel: "sms", body_text: "Hi {{name}}", variables: ["name"], ...extra });

    it("10 concurrent creates of one new template: one 201, nine 409 (and likewise for a new variant)", async () => {
      const first = await Promise.all(Array.from({ length: 10 }, () => request(app).post("/templates").set(AUTH).send(template())));
      expect(first.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
      for (const r of first.filter((x) => x.status === 409)) expect(r.body.error.code).toBe("conflict");
      const variants = await Promise.all(Array.from({ length: 10 }, () => request(app).post("/templates").set(AUTH).send(template({ language: "fr" }))));
      expect(variants.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
      // Different variants of one new template at once are all created.
      const mixed = await Promise.all(
        ["en", "de", "es"].map((language) => request(app).post("/templates").set(AUTH).send(template({ template_id: "race2", language }))),
      );
      expect(mixed.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(await env.db.prisma.templateVersion.count({ where: { templateId: { in: ["race", "race2"] } } })).toBe(5);
    });

    it.each([
      ["a partial inside a section", "{{#v}}{{> x}}{{/v}}", ["v"], "partial"],
      ["a variable not declared inside a section", "{{#v}}{{other}}{{/v}}", ["v"], "{{other}} inside {{#v}}"],
      ["8,000 nested sections", `${"{{#v}}".repeat(8000)}x${"{{/v}}".repeat(8000)}`, ["v"], "deeper than 16"],
    ])("refuses %s at creation with 400", async (_what, body, variables, message) => {
      const res = await request(app).post("/templates").set(AUTH).send(template({ template_id: "holes", body_text: body, variables }));
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: "body_text", message: expect.stringContaining(message) })]);
    });

    it("counts a declared constructor or toString as missing when the send does not give it", async () => {
      expect((await request(app).post("/templates").set(AUTH).send({ template_id: "protos", name: "P", channel: "email", subject: "{{constructor}}", body_text: "{{toString}}", variables: ["constructor", "toString"] })).status).toBe(201);
      const res = await sendEmail(app, userId, { template_id: "protos", variables: {} });
      expect(res.status).toBe(422);
      expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["variables.constructor", "variables.toString"]);
      expect((await sendEmail(app, userId, { template_id: "protos", variables: { constructor: "c", toString: "t" } })).status).toBe(202);
    });
  });

  describe("headers and timeouts", () => {
    const expectSecurityHeaders = (headers: Record<string, string | undefined>) => {
      expect(headers["x-content-type-options"]).toBe("nosniff");
      expect(headers["x-frame-options"]).toBe("SAMEORIGIN");
      expect(headers["strict-transport-security"]).toBeDefined();
      expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(headers["x-powered-by"]).toBeUndefined();
    };

    it("puts helmet's headers and Cache-Control: no-store on every API answer of every process (the services and workers too)", async () => {
      const worker = createHttpApp({ service: "some-worker", logger: createLogger({ service: "w", level: "error" }), registry: createRegistry("some-worker"), checks: {} });
      for (const [target, path, auth] of [
        [app, "/notifications/0190a0b0-0000-7000-8000-000000000000", true],
        [app, "/nope", false],
        [app, "/health", false],
        [app, "/users/nobody", true],
        [services.users, "/users/nobody", true],
        [services.templates, "/templates", true],
        [worker, "/health", false],
        [worker, "/metrics", false],
      ] as const) {
        const res = await (auth ? request(target).get(path).set(AUTH) : request(target).get(path));
        expectSecurityHeaders(res.headers);
        expect([path, res.headers["cache-control"]]).toEqual([path, "no-store"]);
        expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
      }
    });

    it("answers a conditional GET with the envelope, not an empty 304 (the fuzz found If-None-Match: *)", async () => {
      for (const [name, value] of [["If-None-Match", "*"], ["If-None-Match", 'W/"x"'], ["If-Modified-Since", new Date(Date.now() + 86_400_000).toUTCString()]] as const) {
        for (const path of ["/whoami", "/notifications", "/health"]) {
          const res = await request(app).get(path).set(AUTH).set(name, value);
          expect([name, value, path, res.status, res.headers["content-type"]]).toEqual([name, value, path, 200, expect.stringContaining("application/json")]);
          expect(res.body.success).toBe(true);
        }
      }
    });

    it("serves /docs with a CSP that lets its own scripts and styles load from 'self' and nothing from elsewhere", async () => {
      for (const path of ["/docs", "/docs/swagger-ui-bundle.js"]) {
        const res = await request(app).get(path);
        expect(res.status).toBe(200);
        expectSecurityHeaders(res.headers);
        const csp = res.headers["content-security-policy"]!;
        expect(csp).toContain("script-src 'self'");
        expect(csp).toContain("style-src 'self' 'unsafe-inline'");
        expect(csp).not.toMatch(/https?:/);
        expect(csp).not.toMatch(/script-src[^;]*unsafe/);
      }
      // Every script and stylesheet of the page is its own.
      const page = await request(app).get("/docs");
      for (const [, src] of page.text.matchAll(/(?:src|href)="([^"]+)"/g)) expect(src).toMatch(/^\/docs\//);
    });

    it("keeps /openapi.json and /docs open (the README says why): they describe the API and hold no data or keys", async () => {
      const doc = await request(app).get("/openapi.json");
      expect(doc.status).toBe(200);
      expect(doc.headers["cache-control"]).toBe("no-store");
      expect(doc.text).not.toContain(AUTH["X-API-Key"]);
      expect((await request(app).get("/docs")).status).toBe(200);
      // Everything the document describes still needs the key.
      expect((await request(app).get("/notifications")).status).toBe(401);
    });

    it("cuts a request whose body does not arrive in time with 408 (HTTP_REQUEST_TIMEOUT, 1 s here), on its own routes and the proxied ones", async () => {
      for (const path of ["/notifications/send", "/users", "/templates"]) {
        const answer = await rawRequest(
          port,
          { method: "POST", target: path, headers: [["X-API-Key", AUTH["X-API-Key"]], ["Content-Type", "application/json"]], body: Buffer.from('{"user_id":'), framing: "long" },
          30_000,
        );
        const { status, headers, body } = envelopeOf(answer);
        expect([path, status, body.error.code]).toEqual([path, 408, "request_timeout"]);
        expect(headers.connection).toBe("close");
      }
    });

    it("answers in the envelope what Node refuses itself: a malformed request, an Expect it cannot meet, OPTIONS", async () => {
      const bad = envelopeOf(await rawRequest(port, { method: "GET", target: "/notifications/\u0001x", headers: [] }, 30_000));
      expect([bad.status, bad.body.error.code]).toEqual([400, "validation_failed"]);
      const expectation = envelopeOf(await rawRequest(port, { method: "GET", target: "/health", headers: [["Expect", "bogus"]] }, 30_000));
      expect([expectation.status, expectation.body.error.code]).toEqual([417, "expectation_failed"]);
      const huge = envelopeOf(await rawRequest(port, { method: "GET", target: "/health", headers: [["X-Big", "x".repeat(20_000)]] }, 30_000));
      expect([huge.status, huge.body.error.code]).toEqual([431, "headers_too_large"]);
      const options = await rawRequest(port, { method: "OPTIONS", target: "/notifications", headers: [] }, 30_000);
      expect(options).toMatchObject({ kind: "answer", status: 204, body: "" });
    });
  });
});
