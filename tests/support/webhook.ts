import request from "supertest";
import type { Express } from "express";
import { startChannelWorker, type DeliveryWorker } from "@herald/delivery";
import type { HttpProviderOptions } from "@herald/providers";
import type { Runtime } from "@herald/runtime";
import { waitFor, type TestEnv } from "@herald/testkit";
import { AUTH, statusOf } from "./system";

/** A webhook worker process (in this process) on the test's world. */
export async function startWebhookWorker(
  env: TestEnv,
  overrides: Record<string, string> = {},
  options: Pick<HttpProviderOptions, "resolver" | "ca"> = {},
): Promise<{ worker: DeliveryWorker; runtime: Runtime }> {
  const runtime = await env.openRuntime("webhook-worker", overrides);
  return { worker: await startChannelWorker(runtime, ["webhook", "slack"], options), runtime };
}

let counter = 0;

/**
 * A user with a webhook_url and/or slack_webhook_url, created through the gateway, and the
 * user's signing secret (from the create answer, or from the database).
 */
export async function createHookUser(
  env: TestEnv,
  app: Express,
  fields: { webhook_url?: string; slack_webhook_url?: string } & Record<string, unknown>,
): Promise<{ id: string; secret: string | null }> {
  counter += 1;
  const res = await request(app).post("/users").set(AUTH).send({ name: "Ada", external_id: `hook-${counter}-${Date.now()}`, ...fields });
  if (res.status !== 201) throw new Error(`user not created: ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.data.id as string;
  let secret = (res.body.data.webhook_secret as string | undefined) ?? null;
  if (!secret && fields.webhook_url) {
    const row = await env.db.prisma.user.findUniqueOrThrow({ where: { id } });
    secret = row.webhookSecret;
  }
  return { id, secret };
}

/** A webhook or slack template, created through the gateway. */
export async function createHookTemplate(app: Express, templateId: string, channel: "webhook" | "slack", bodyText: string, variables: string[] = []): Promise<void> {
  const res = await request(app).post("/templates").set(AUTH).send({ template_id: templateId, name: templateId, channel, body_text: bodyText, variables });
  if (res.status !== 201) throw new Error(`template not created: ${res.status} ${JSON.stringify(res.body)}`);
}

export async function sendTo(app: Express, userId: string, channel: string, templateId: string, variables: Record<string, unknown> = {}) {
  const res = await request(app).post("/notifications/send").set(AUTH).send({ user_id: userId, channel, template_id: templateId, variables });
  if (res.status !== 202) throw new Error(`send not accepted: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.request_id as string;
}

/** Waits until the request's (only) delivery reaches this status. */
export async function deliveryIn(app: Express, requestId: string, status: string, timeoutMs = 15_000) {
  const view = await waitFor(
    async () => {
      const s = await statusOf(app, requestId);
      return s.deliveries[0]?.status === status ? s : undefined;
    },
    { timeoutMs, what: `delivery ${status}` },
  );
  return view.deliveries[0] as (typeof view.deliveries)[number] & { delivery_id: string };
}
