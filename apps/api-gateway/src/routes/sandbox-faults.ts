import { z } from "zod";
import type { Redis } from "@herald/cache";
import type { Config } from "@herald/config";
import { AppError } from "@herald/errors";
import { send, type Api } from "@herald/http";
import { FAULT_MODES, providerChoice, SANDBOX_CHANNELS, SandboxFaults, type SandboxChannel } from "@herald/providers";

const channel = z.enum(SANDBOX_CHANNELS);
const faultBody = z
  .object({
    channel,
    mode: z.enum(FAULT_MODES),
    count: z.number().int().min(1).max(10_000).default(1),
  })
  .strict();
const channelQuery = z.object({ channel: channel.optional() });

const CREDENTIALS: Record<SandboxChannel, string> = {
  push: "FIREBASE_SERVICE_ACCOUNT",
  sms: "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM",
  whatsapp: "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM",
};

/** Redis holds the faults (the workers read them); without it there is nothing to answer. */
async function inRedis<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new AppError("service_unavailable", `Redis is unavailable, and sandbox faults are kept there (${(error as Error).message})`);
  }
}

/**
 * Fault injection for the sandbox providers: the next `count` sends of a channel fail, fail
 * permanently or time out. Mounted outside production only; a channel with a real provider is 409.
 */
export function sandboxFaultRoutes(api: Api, config: Config, redis: Redis): void {
  const faults = new SandboxFaults(redis);
  const sandboxed = SANDBOX_CHANNELS.filter((c) => providerChoice(config, c) === "sandbox");
  const requireSandbox = (c: SandboxChannel) => {
    if (!sandboxed.includes(c)) {
      throw new AppError("conflict", `${c} is sent through its real provider (${CREDENTIALS[c]} configured): faults can only be injected into the sandbox provider`);
    }
  };

  api.route(
    {
      method: "post",
      path: "/sandbox/faults",
      tag: "Sandbox",
      summary: "Make the next `count` sends of a sandbox channel fail (retryable), fail permanently, or time out",
      description: "Faults queue up in the order they are posted; each send takes one. 409 when the channel uses its real provider.",
      body: faultBody,
      status: 201,
      errors: [409, 503],
    },
    async ({ body, res }) => {
      requireSandbox(body.channel);
      const pending = await inRedis(() => faults.add(body.channel, body.mode, body.count));
      send(res, { channel: body.channel, pending }, { status: 201, message: `the next ${body.count} ${body.channel} send(s) will ${body.mode}` });
    },
  );

  api.route(
    {
      method: "get",
      path: "/sandbox/faults",
      tag: "Sandbox",
      summary: "Faults waiting to be taken, by sandbox channel",
      query: channelQuery,
      errors: [409, 503],
    },
    async ({ query, res }) => {
      if (query.channel) requireSandbox(query.channel);
      const channels = query.channel ? [query.channel] : sandboxed;
      const lists = await inRedis(() => Promise.all(channels.map((c) => faults.pending(c))));
      send(res, Object.fromEntries(channels.map((c, i) => [c, lists[i]])));
    },
  );

  api.route(
    {
      method: "delete",
      path: "/sandbox/faults",
      tag: "Sandbox",
      summary: "Drop the waiting faults of one sandbox channel (or of all)",
      query: channelQuery,
      status: 204,
      errors: [409, 503],
    },
    async ({ query, res }) => {
      if (query.channel) requireSandbox(query.channel);
      await inRedis(() => Promise.all((query.channel ? [query.channel] : sandboxed).map((c) => faults.clear(c))));
      res.status(204).end();
    },
  );
}
