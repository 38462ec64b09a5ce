import request from "supertest";
import type { Express } from "express";
import { listen } from "@herald/http";
import { startChannelWorker, type DeliveryWorker } from "@herald/delivery";
import type { Runtime } from "@herald/runtime";
import { FakeSmtp, TEST_API_KEY, createTestEnv, type TestEnv } from "@herald/testkit";
import { createGateway, type Gateway } from "../../apps/api-gateway/src/server";
import { createUserServiceApp } from "../../apps/user-service/src/server";
import { createTemplateServiceApp } from "../../apps/template-service/src/server";

export const AUTH = { "X-API-Key": TEST_API_KEY };

/** The user and template services, listening, and a gateway app that proxies to them. */
export async function startApi(
  env: TestEnv,
  overrides: Record<string, string> = {},
): Promise<{ app: Express; gateway: Gateway; runtime: Runtime; services: { users: Express; templates: Express } }> {
  const users = await env.openRuntime("user-service", overrides, { waitForBroker: false });
  const usersApp = createUserServiceApp(users);
  const usersHttp = await listen(usersApp, 0, "127.0.0.1");
  users.releasers.add("http", () => usersHttp.close());
  const templates = await env.openRuntime("template-service", overrides, { waitForBroker: false });
  const templatesApp = createTemplateServiceApp(templates);
  const templatesHttp = await listen(templatesApp, 0, "127.0.0.1");
  templates.releasers.add("http", () => templatesHttp.close());
  const runtime = await env.openRuntime(
    "api-gateway",
    {
      USER_SERVICE_URL: `http://127.0.0.1:${usersHttp.port}`,
      TEMPLATE_SERVICE_URL: `http://127.0.0.1:${templatesHttp.port}`,
      ...overrides,
    },
    { waitForBroker: !overrides.RABBITMQ_URL },
  );
  const gateway = await createGateway(runtime);
  return { app: gateway.app, gateway, runtime, services: { users: usersApp, templates: templatesApp } };
}

/** An email worker process (in this process) sending to the given SMTP port (3 connections). */
export async function startEmailWorker(
  env: TestEnv,
  smtpPort: number,
  overrides: Record<string, string> = {},
): Promise<{ worker: DeliveryWorker; runtime: Runtime }> {
  const runtime = await env.openRuntime("email-worker", { SMTP_HOST: "127.0.0.1", SMTP_PORT: String(smtpPort), SMTP_MAX_CONNECTIONS: "3", ...overrides });
  const worker = await startChannelWorker(runtime, ["email"]);
  return { worker, runtime };
}

/** The breaker of the SMTP server a test's email worker sends to. */
export function smtpBreaker(worker: DeliveryWorker, smtpPort: number) {
  const breaker = worker.breakers.get(`smtp:127.0.0.1:${smtpPort}`);
  if (!breaker) throw new Error(`no breaker for smtp:127.0.0.1:${smtpPort}; the worker has ${[...worker.breakers.keys()].join(", ")}`);
  return breaker;
}

let counter = 0;

/** A user with an email address, created through the gateway. */
export async function createUser(app: Express, fields: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  counter += 1;
  const email = `user${counter}.${Date.now()}@example.com`;
  const res = await request(app).post("/users").set(AUTH).send({ email, name: "Ada", ...fields });
  if (res.status !== 201) throw new Error(`user not created: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.data.id as string, email: res.body.data.email as string };
}

/** The welcome email template, created through the gateway. */
export async function createWelcomeTemplate(app: Express, templateId = "welcome_email"): Promise<void> {
  const res = await request(app)
    .post("/templates")
    .set(AUTH)
    .send({
      template_id: templateId,
      name: "Welcome",
      channel: "email",
      subject: "Welcome, {{name}}!",
      body_text: "Hello {{name}}, welcome aboard.",
      body_html: "<p>Hello {{name}}, welcome aboard.</p>",
      variables: ["name"],
    });
  if (res.status !== 201) throw new Error(`template not created: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function sendEmail(app: Express, userId: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return request(app)
    .post("/notifications/send")
    .set({ ...AUTH, ...headers })
    .send({ user_id: userId, channel: "email", template_id: "welcome_email", variables: { name: "Ada" }, ...extra });
}

export async function statusOf(app: Express, requestId: string) {
  const res = await request(app).get(`/notifications/${requestId}`).set(AUTH);
  return res.body.data as {
    status: string;
    deliveries: { status: string; attempts: number; last_error: string | null; last_error_code: string | null; provider_message_id: string | null; errors: { attempt: number; error_code: string; at: string }[] }[];
  };
}

export interface EmailWorld {
  env: TestEnv;
  smtp: FakeSmtp;
  app: Express;
  /** The email worker, unless started with `worker: false`. */
  worker: DeliveryWorker | undefined;
  cleanup: () => Promise<void>;
}

/**
 * The common world of the email tests: its own environment, a fake SMTP server, the API with the
 * welcome template, and (unless `worker: false`) an email worker sending to the fake.
 */
export async function emailWorld(overrides: Record<string, string> = {}, { worker = true } = {}): Promise<EmailWorld> {
  const env = await createTestEnv(overrides);
  const smtp = new FakeSmtp();
  await smtp.start();
  const { app } = await startApi(env);
  const started = worker ? await startEmailWorker(env, smtp.port) : undefined;
  await createWelcomeTemplate(app);
  return {
    env,
    smtp,
    app,
    worker: started?.worker,
    cleanup: async () => {
      await env.cleanup();
      await smtp.stop();
    },
  };
}
