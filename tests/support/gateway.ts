import request from "supertest";
import type { Express } from "express";
import { createGateway, type Gateway } from "../../apps/api-gateway/src/server";
import type { Runtime } from "@herald/runtime";
import { FakeSmtp, createTestEnv, waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, startApi } from "./system";

/** A gateway alone on the test's world (a second copy, or one started after another stopped). */
export async function startGateway(env: TestEnv, overrides: Record<string, string> = {}): Promise<{ app: Express; gateway: Gateway; runtime: Runtime }> {
  const runtime = await env.openRuntime("api-gateway", overrides);
  const gateway = await createGateway(runtime);
  return { app: gateway.app, gateway, runtime };
}

/** A template with one variant per channel, all using {{name}}. */
export async function createMultiChannelTemplate(app: Express, templateId: string, channels: string[]): Promise<void> {
  for (const channel of channels) {
    const fields: Record<string, unknown> =
      channel === "email"
        ? { subject: "Hi {{name}}", body_text: "Hello {{name}}" }
        : channel === "push"
          ? { title: "Hi {{name}}", body_text: "Hello {{name}}" }
          : channel === "webhook" || channel === "slack"
            ? { body_text: '{"text": "Hello {{name}}"}' }
            : { body_text: "Hello {{name}}" };
    const res = await request(app)
      .post("/templates")
      .set(AUTH)
      .send({ template_id: templateId, name: templateId, channel, variables: ["name"], ...fields });
    if (res.status !== 201) throw new Error(`${channel} variant not created: ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** The deliveries of a request as the database has them, by channel. */
export async function deliveriesOf(env: TestEnv, requestId: string) {
  return env.db.prisma.delivery.findMany({ where: { requestId }, orderBy: { channel: "asc" } });
}

/** How many rows each table of the accept path holds. */
/**
 * Row counts of the send path's tables, taken once the outbox has drained: a publish confirm still
 * in flight from an earlier test would otherwise delete an outbox row between two snapshots.
 */
export async function rowCounts(env: TestEnv) {
  await waitFor(async () => (await env.db.prisma.outboxMessage.count()) === 0, { what: "the outbox to drain" });
  const [requests, deliveries, outbox, keys] = await Promise.all([
    env.db.prisma.notificationRequest.count(),
    env.db.prisma.delivery.count(),
    env.db.prisma.outboxMessage.count(),
    env.db.prisma.idempotencyKey.count(),
  ]);
  return { requests, deliveries, outbox, keys };
}

/** HH:MM of an instant in a time zone. */
export function wallTime(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(instant);
}

/** A test file's world: its own services (createTestEnv), a fake SMTP server, the API (services + gateway). */
export interface EmailWorld {
  env: TestEnv;
  smtp: FakeSmtp;
  app: Express;
  gateway: Gateway;
  runtime: Runtime;
  services: { users: Express; templates: Express };
}

/**
 * Registers the beforeAll that builds an EmailWorld and the afterAll that removes it; the returned
 * object is filled in before the first test runs.
 */
export function emailWorld(overrides: Record<string, string> = {}): EmailWorld {
  const world = {} as EmailWorld;
  beforeAll(async () => {
    world.env = await createTestEnv(overrides);
    world.smtp = new FakeSmtp();
    await world.smtp.start();
    Object.assign(world, await startApi(world.env));
  });
  afterAll(async () => {
    await world.env?.cleanup();
    await world.smtp?.stop();
  });
  return world;
}
