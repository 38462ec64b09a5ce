import request from "supertest";
import type { Express } from "express";
import { TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { TemplateCatalog } from "@herald/templates";
import { createTemplateServiceApp } from "./server";

const AUTH = { "X-API-Key": TEST_API_KEY };
const welcome = {
  template_id: "welcome",
  name: "Welcome",
  channel: "email",
  subject: "Hi {{name}}",
  body_text: "Hello {{name}}",
  variables: ["name"],
};

describe("template service", () => {
  let env: TestEnv;
  let app: Express;

  beforeAll(async () => {
    env = await createTestEnv();
    app = createTemplateServiceApp(await env.openRuntime("template-service", {}, { waitForBroker: false }));
  });

  afterAll(() => env.cleanup());

  it("creates a template, 409 on the same variant, PUT makes version 2, DELETE removes it", async () => {
    const created = await request(app).post("/templates").set(AUTH).send(welcome);
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ template_id: "welcome", channel: "email", language: "en", version: 1 });
    expect((await request(app).post("/templates").set(AUTH).send(welcome)).status).toBe(409);

    const catalog = new TemplateCatalog(env.db, env.redis);
    expect((await catalog.resolve("welcome", "email", ["en"]))?.version).toBe(1);
    const put = await request(app).put("/templates/welcome").set(AUTH).send({ ...welcome, template_id: undefined, subject: "Hello {{name}}!" });
    expect(put.status).toBe(200);
    expect(put.body.data.version).toBe(2);
    expect((await catalog.resolve("welcome", "email", ["en"]))?.subject).toBe("Hello {{name}}!");
    expect((await catalog.resolve("welcome", "email", ["en"], 1))?.subject).toBe("Hi {{name}}");

    const got = await request(app).get("/templates/welcome").set(AUTH);
    expect(got.body.data.variants).toHaveLength(1);
    expect((await request(app).get("/templates").set(AUTH)).body.data.map((t: { template_id: string }) => t.template_id)).toContain("welcome");

    expect((await request(app).delete("/templates/welcome").set(AUTH)).status).toBe(204);
    expect((await request(app).get("/templates/welcome").set(AUTH)).status).toBe(404);
    expect(await catalog.resolve("welcome", "email", ["en"])).toBeUndefined();
  });

  it("400 with the position for a template that does not parse or uses an undeclared variable", async () => {
    const broken = await request(app).post("/templates").set(AUTH).send({ ...welcome, template_id: "broken", body_text: "Hello {{name" });
    expect(broken.status).toBe(400);
    expect(broken.body.error.details[0]).toMatchObject({ field: "body_text" });
    expect(broken.body.error.details[0].position).toEqual(expect.any(Number));
    const undeclared = await request(app).post("/templates").set(AUTH).send({ ...welcome, template_id: "undeclared", body_text: "Hi {{name}} {{code}}" });
    expect(undeclared.status).toBe(400);
    expect(undeclared.body.error.details[0].message).toContain("{{code}}");
    const noSubject = await request(app).post("/templates").set(AUTH).send({ ...welcome, template_id: "nosubject", subject: undefined });
    expect(noSubject.status).toBe(400);
    expect(noSubject.body.error.details[0].field).toBe("subject");
    expect(await env.db.prisma.template.count({ where: { id: { in: ["broken", "undeclared", "nosubject"] } } })).toBe(0);
  });

  const post = (body: Record<string, unknown>) => request(app).post("/templates").set(AUTH).send(body);
  const versionCount = (templateId: string) => env.db.prisma.templateVersion.count({ where: { templateId } });

  it("takes the fields of each channel and refuses, naming the field, what the channel does not use; nothing written", async () => {
    const push = await post({
      template_id: "order_shipped",
      name: "Order shipped",
      channel: "push",
      title: "Order {{order.id}} shipped",
      body_text: "Arriving {{eta}}",
      data: { order_id: "{{order.id}}", screen: "orders" },
      image: "https://cdn.example.com/orders/{{order.id}}.png",
      variables: ["order.id", "eta"],
    });
    expect(push.status).toBe(201);
    expect(push.body.data).toMatchObject({ channel: "push", title: "Order {{order.id}} shipped", data: { order_id: "{{order.id}}", screen: "orders" } });

    const cases: [Record<string, unknown>, string[]][] = [
      [{ channel: "sms", body_text: "Hi", subject: "S", title: "T" }, ["subject", "title"]],
      [{ channel: "whatsapp", body_text: "Hi", body_html: "<p>Hi</p>", image: "https://x.example/i.png" }, ["body_html", "image"]],
      [{ channel: "push", body_text: "Hi" }, ["title"]],
      [{ channel: "push", body_text: "Hi", title: "T", data: { n: 1 } }, ["data.n"]],
      [{ channel: "push", body_text: "Hi", title: "T", image: "not a url" }, ["image"]],
      [{ channel: "push", body_text: "Hi", title: "T", data: { notification: "x" } }, ["data.notification"]],
      [{ channel: "email", body_text: "Hi", subject: "S", data: { a: "b" } }, ["data"]],
      [{ channel: "webhook", body_text: '{"event": "{{name}}",}', variables: ["name"] }, ["body_text"]],
      [{ channel: "slack", body_text: "Hello {{name}}", variables: ["name"] }, ["body_text"]],
      [{ channel: "fax", body_text: "Hi" }, ["channel"]],
      [{ channel: "sms", body_text: "" }, ["body_text"]],
      [{ channel: "sms", body_text: "Hi", language: "English" }, ["language"]],
      [{ channel: "sms", body_text: "Hi", variables: ["not valid"] }, ["variables.0"]],
    ];
    for (const [body, fields] of cases) {
      const res = await post({ template_id: "refused", name: "Refused", ...body });
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: "validation_failed" });
      expect({ body, fields: (res.body.error.details as { field: string }[]).map((d) => d.field).sort() }).toEqual({ body, fields });
    }
    const unknown = await post({ template_id: "refused", name: "Refused", channel: "sms", body_text: "Hi", colour: "red" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].message).toContain("colour");
    expect(await env.db.prisma.template.count({ where: { id: "refused" } })).toBe(0);
    expect(await versionCount("refused")).toBe(0);

    const slack = await post({ template_id: "deploy", name: "Deploy", channel: "slack", body_text: '{"text": "Deployed {{service}} :rocket:"}', variables: ["service"] });
    expect(slack.status).toBe(201);
  });

  it("answers SMS bodies longer than one segment with meta.warnings (on POST and PUT), short ones without", async () => {
    const short = await post({ template_id: "otp", name: "OTP", channel: "sms", body_text: "Your code is {{code}}", variables: ["code"] });
    expect(short.status).toBe(201);
    expect(short.body.meta.warnings).toBeUndefined();
    const long = await request(app)
      .put("/templates/otp")
      .set(AUTH)
      .send({ channel: "sms", body_text: `Your code is {{code}}. ${"Please do not share it with anyone. ".repeat(5)}`, variables: ["code"] });
    expect(long.status).toBe(200);
    expect(long.body.data.version).toBe(2);
    expect(long.body.meta.warnings).toEqual([{ field: "body_text", message: expect.stringContaining("2 SMS segments"), segments: 2, encoding: "GSM-7" }]);
    const unicode = await post({ template_id: "otp", name: "OTP", channel: "sms", language: "ru", body_text: "Ваш код {{code}}. Никому его не сообщайте, даже сотрудникам банка. Код действует 10 минут.", variables: ["code"] });
    expect(unicode.status).toBe(201);
    expect(unicode.body.meta.warnings[0]).toMatchObject({ segments: 2, encoding: "UCS-2" });
  });

  it("previews the variant a send would use: language fallback, escaping, pinned versions, SMS segments", async () => {
    await post({ ...welcome, template_id: "greet", subject: "Hi {{name}}", body_text: "Hello {{name}}", body_html: "<p>Hello {{name}}</p>" });
    await post({ ...welcome, template_id: "greet", language: "pt", subject: "Olá {{name}}", body_text: "Olá {{name}}", body_html: "<p>Olá {{name}}</p>" });
    await request(app).put("/templates/greet").set(AUTH).send({ channel: "email", language: "en", subject: "Welcome {{name}}", body_text: "Hello {{name}}", variables: ["name"] });
    await post({ template_id: "greet", name: "Greet", channel: "sms", body_text: `Hi {{name}}! ${"x".repeat(170)}`, variables: ["name"] });

    const preview = (body: Record<string, unknown>) => request(app).post("/templates/greet/preview").set(AUTH).send(body);
    const en = await preview({ channel: "email", variables: { name: "<Ada>" } });
    expect(en.status).toBe(200);
    expect(en.body.data).toEqual({
      template_id: "greet",
      channel: "email",
      language: "en",
      version: 2,
      version_id: expect.any(String),
      subject: "Welcome <Ada>",
      body_text: "Hello <Ada>",
    });
    const pinned = await preview({ channel: "email", template_version: 1, variables: { name: "<Ada>" } });
    expect(pinned.body.data).toMatchObject({ version: 1, subject: "Hi <Ada>", body_html: "<p>Hello &lt;Ada&gt;</p>" });
    expect((await preview({ channel: "email", language: "pt-BR", variables: { name: "Ana" } })).body.data).toMatchObject({ language: "pt", subject: "Olá Ana" });
    expect((await preview({ channel: "email", language: "fr", variables: { name: "Ana" } })).body.data).toMatchObject({ language: "en", subject: "Welcome Ana" });

    const sms = await preview({ channel: "sms", variables: { name: "Ada" } });
    expect(sms.body.data.sms).toEqual({ encoding: "GSM-7", characters: 178, units: 178, segments: 2 });
    expect(sms.body.meta.warnings[0]).toMatchObject({ field: "body_text", segments: 2 });

    const noChannel = await preview({ variables: { name: "Ada" } });
    expect(noChannel.status).toBe(400);
    expect(noChannel.body.error.details[0]).toMatchObject({ field: "channel", message: expect.stringContaining("email, sms") });
    const missing = await preview({ channel: "email", variables: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.error).toEqual({ code: "missing_variables", details: [{ field: "variables.name", message: "is required by the template" }] });
    expect((await preview({ channel: "push", variables: { name: "Ada" } })).status).toBe(404);
    expect((await preview({ channel: "email", template_version: 9, variables: { name: "Ada" } })).status).toBe(404);
    expect((await request(app).post("/templates/nothing-here/preview").set(AUTH).send({ variables: {} })).status).toBe(404);
    const bad = await preview({ channel: "email", variables: "Ada", template_version: 0, extra: true });
    expect(bad.status).toBe(400);
    expect((bad.body.error.details as { field: string }[]).map((d) => d.field).sort()).toEqual(["(body)", "template_version", "variables"]);
  });

  it("a single-channel template previews without naming the channel; JSON bodies are JSON-escaped", async () => {
    await post({ template_id: "hook", name: "Hook", channel: "webhook", body_text: '{"event": "signup", "name": "{{name}}", "n": {{{count}}}}', variables: ["name", "count"] });
    const res = await request(app).post("/templates/hook/preview").set(AUTH).send({ variables: { name: 'Ada "the first"', count: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.data.channel).toBe("webhook");
    expect(JSON.parse(res.body.data.body_text as string)).toEqual({ event: "signup", name: 'Ada "the first"', n: 3 });
    expect(res.body.meta.warnings).toBeUndefined();
    const broken = await request(app).post("/templates/hook/preview").set(AUTH).send({ variables: { name: "Ada", count: "three" } });
    expect(broken.status).toBe(200);
    expect(broken.body.meta.warnings[0]).toMatchObject({ field: "body_text", message: expect.stringContaining("valid JSON") });
  });

  it("keeps every version readable, also of deleted variants; DELETE by channel/language removes only that variant", async () => {
    await post({ ...welcome, template_id: "multi" });
    await post({ template_id: "multi", name: "Multi", channel: "sms", body_text: "Hi {{name}}", variables: ["name"] });
    await request(app).put("/templates/multi").set(AUTH).send({ channel: "sms", body_text: "Hello {{name}}", variables: ["name"] });

    const versions = await request(app).get("/templates/multi/versions").set(AUTH);
    expect(versions.body.data.map((v: { channel: string; version: number }) => `${v.channel}:${v.version}`)).toEqual(["email:1", "sms:2", "sms:1"]);
    expect((await request(app).delete("/templates/multi?channel=sms&language=en").set(AUTH)).status).toBe(204);
    expect((await request(app).get("/templates/multi").set(AUTH)).body.data.variants.map((v: { channel: string }) => v.channel)).toEqual(["email"]);
    expect((await request(app).get("/templates/multi?channel=sms").set(AUTH)).status).toBe(404);
    const afterDelete = await request(app).get("/templates/multi/versions?channel=sms").set(AUTH);
    expect(afterDelete.status).toBe(200);
    expect(afterDelete.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const catalog = new TemplateCatalog(env.db, env.redis);
    const old = afterDelete.body.data[1] as { version_id: string; body_text: string };
    expect((await catalog.version(old.version_id))?.body_text).toBe("Hi {{name}}");
    expect(await catalog.resolve("multi", "sms", ["en"])).toBeUndefined();

    const putDeleted = await request(app).put("/templates/multi").set(AUTH).send({ channel: "sms", body_text: "Hey {{name}}", variables: ["name"] });
    expect(putDeleted.status).toBe(404);
    expect(await versionCount("multi")).toBe(3);
    const recreated = await post({ template_id: "multi", name: "Multi", channel: "sms", body_text: "Hey {{name}}", variables: ["name"] });
    expect(recreated.body.data.version).toBe(3);

    expect((await request(app).delete("/templates/multi?channel=push").set(AUTH)).status).toBe(404);
    expect((await request(app).get("/templates/nothing-here/versions").set(AUTH)).status).toBe(404);
    expect((await request(app).delete("/templates/nothing-here").set(AUTH)).status).toBe(404);
  });

  it("PUT: 400 for bad content and 404 for an unknown variant, nothing written", async () => {
    await post({ ...welcome, template_id: "stable" });
    const before = await env.db.prisma.templateVariant.findMany({ where: { templateId: "stable" } });
    for (const body of [
      { channel: "email", body_text: "Hi {{name}}", variables: ["name"] },
      { channel: "email", subject: "Hi {{name", body_text: "x", variables: ["name"] },
      { channel: "email", subject: "Hi", body_text: "{{who}}", variables: [] },
      { channel: "email", subject: "Hi", body_text: "x", template_id: "other" },
    ]) {
      const res = await request(app).put("/templates/stable").set(AUTH).send(body);
      expect(res.status).toBe(400);
    }
    expect((await request(app).put("/templates/stable").set(AUTH).send({ channel: "email", language: "de", subject: "Hi", body_text: "x" })).status).toBe(404);
    expect((await request(app).put("/templates/unknown").set(AUTH).send({ channel: "email", subject: "Hi", body_text: "x" })).status).toBe(404);
    expect(await env.db.prisma.templateVariant.findMany({ where: { templateId: "stable" } })).toEqual(before);
    expect(await versionCount("stable")).toBe(1);
    expect(await env.db.prisma.template.count({ where: { id: "unknown" } })).toBe(0);
  });

  it("resolves languages most specific first (pt-BR, pt, then the template's default)", async () => {
    await post({ ...welcome, template_id: "langs", language: "es", default_language: "es", subject: "Hola", body_text: "Hola {{name}}" });
    await post({ ...welcome, template_id: "langs", language: "pt", subject: "Olá", body_text: "Olá {{name}}" });
    await post({ ...welcome, template_id: "langs", language: "pt-BR", subject: "Oi", body_text: "Oi {{name}}" });
    const catalog = new TemplateCatalog(env.db, env.redis);
    expect((await catalog.resolve("langs", "email", ["pt-BR", "en"]))?.language).toBe("pt-BR");
    expect((await catalog.resolve("langs", "email", ["pt-PT"]))?.language).toBe("pt");
    expect((await catalog.resolve("langs", "email", ["fr", undefined]))?.language).toBe("es");
    expect((await catalog.resolve("langs", "email", []))?.language).toBe("es");
    expect(await catalog.resolve("langs", "sms", ["pt-BR"])).toBeUndefined();
  });

  it("lists templates with a cursor; 400 for a cursor it did not give", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page += 1) {
      const res = await request(app).get("/templates").query({ limit: 2, ...(cursor ? { cursor } : {}) }).set(AUTH);
      expect(res.status).toBe(200);
      seen.push(...(res.body.data as { template_id: string }[]).map((t) => t.template_id));
      cursor = res.body.meta.next_cursor as string | undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual([...seen].sort());
    expect(seen.length).toBe(await env.db.prisma.template.count({ where: { deletedAt: null } }));
    expect(seen.length).toBeGreaterThan(2);
    const bad = await request(app).get("/templates?cursor=%%%").set(AUTH);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe("cursor");
  });

  it("documents every route in /openapi.json", async () => {
    const doc = await request(app).get("/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths as Record<string, unknown>).sort()).toEqual(["/templates", "/templates/{template_id}", "/templates/{template_id}/preview", "/templates/{template_id}/versions"]);
  });
});
