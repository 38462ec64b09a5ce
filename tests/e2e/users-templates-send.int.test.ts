import request from "supertest";
import type { Express } from "express";
import { FakeSmtp, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, createUser, sendEmail, emailWorld } from "../support/system";

/** Users and templates as a send sees them, through the gateway (and its proxy to the two services). */
describe("users and templates in a send", () => {
  let env: TestEnv;
  let smtp: FakeSmtp;
  let app: Express;

  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ env, smtp, app, cleanup } = await emailWorld());
  });

  afterAll(() => cleanup());

  const mailTo = (to: string, count = 1) =>
    waitFor(() => {
      const mails = smtp.received.filter((m) => m.to === to);
      return mails.length >= count ? mails : undefined;
    }, { what: `mail to ${to}` });

  it("a deleted user, by id or external_id, is 422 user_not_found and nothing is accepted", async () => {
    const user = await createUser(app, { external_id: "leaving" });
    expect((await sendEmail(app, "leaving")).status).toBe(202);
    expect((await request(app).delete(`/users/${user.id}`).set(AUTH)).status).toBe(204);
    const before = await env.db.prisma.notificationRequest.count();
    for (const ref of [user.id, "leaving"]) {
      const res = await sendEmail(app, ref);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("user_not_found");
    }
    expect(await env.db.prisma.notificationRequest.count()).toBe(before);
  });

  it("the latest version by default, a pinned template_version when given, 422 for a version that does not exist", async () => {
    const put = await request(app)
      .put("/templates/welcome_email")
      .set(AUTH)
      .send({ channel: "email", subject: "Version two for {{name}}", body_text: "v2 {{name}}", variables: ["name"] });
    expect(put.status).toBe(200);
    const user = await createUser(app);

    expect((await sendEmail(app, user.id)).status).toBe(202);
    expect((await mailTo(user.email))[0]!.subject).toBe("Version two for Ada");
    expect((await sendEmail(app, user.id, { template_version: 1 })).status).toBe(202);
    const mails = await mailTo(user.email, 2);
    expect(mails.map((m) => m.subject).sort()).toEqual(["Version two for Ada", "Welcome, Ada!"]);

    const missing = await sendEmail(app, user.id, { template_version: 7 });
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe("template_not_found");
  });

  it("the user's language, then its base language, then the template's default", async () => {
    const variant = (language: string, subject: string) =>
      request(app).post("/templates").set(AUTH).send({ template_id: "hello", name: "Hello", channel: "email", language, subject, body_text: subject, variables: ["name"] });
    expect((await variant("en", "Hello {{name}}")).status).toBe(201);
    expect((await variant("pt", "Olá {{name}}")).status).toBe(201);
    expect((await variant("pt-BR", "Oi {{name}}")).status).toBe(201);

    const cases: [string, string][] = [
      ["pt-BR", "Oi Ada"],
      ["pt-PT", "Olá Ada"],
      ["fr", "Hello Ada"],
    ];
    for (const [language, subject] of cases) {
      const user = await createUser(app, { language });
      const res = await sendEmail(app, user.id, { template_id: "hello" });
      expect(res.status).toBe(202);
      expect((await mailTo(user.email))[0]!.subject).toBe(subject);
    }
    // A preferences change of language is what the next send uses.
    const user = await createUser(app, { language: "en" });
    expect((await request(app).put(`/users/${user.id}/preferences`).set(AUTH).send({ language: "pt-BR" })).status).toBe(200);
    expect((await sendEmail(app, user.id, { template_id: "hello" })).status).toBe(202);
    expect((await mailTo(user.email))[0]!.subject).toBe("Oi Ada");
  });

  it("the gateway serves the user and template routes: list, devices, webhook secret, preview", async () => {
    const user = await createUser(app, { external_id: "via-gateway" });
    expect((await request(app).get("/users?external_id=via-gateway").set(AUTH)).body.data[0].id).toBe(user.id);
    expect((await request(app).get("/users?external_id=via-gateway")).status).toBe(401);
    expect((await request(app).post(`/users/${user.id}/devices`).set(AUTH).send({ token: "gw-token", platform: "web" })).status).toBe(201);
    expect((await request(app).delete(`/users/${user.id}/devices/gw-token`).set(AUTH)).status).toBe(204);
    const hooked = await request(app).patch(`/users/${user.id}`).set(AUTH).send({ webhook_url: "https://example.com/hook" });
    expect(hooked.body.data.webhook_secret).toMatch(/^whsec_/);
    expect((await request(app).post(`/users/${user.id}/webhook-secret/rotate`).set(AUTH)).body.data.webhook_secret).toMatch(/^whsec_/);
    const preview = await request(app).post("/templates/welcome_email/preview").set(AUTH).send({ template_version: 1, variables: { name: "Ada" } });
    expect(preview.status).toBe(200);
    expect(preview.body.data.subject).toBe("Welcome, Ada!");
  });
});
