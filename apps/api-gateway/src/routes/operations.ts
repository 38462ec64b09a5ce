import { z } from "zod";
import { AuditLog, auditEntrySchema, listAuditSchema } from "@herald/audit";
import type { Database } from "@herald/db";
import { callerOf, send, type Api } from "@herald/http";
import type { Overview } from "@herald/monitoring";

const TAG = "Operations";

/** What an operator (and the console) reads: who am I, the overview figures, the audit log. */
export function operationsRoutes(api: Api, overview: Overview, db: Database): void {
  api.route(
    {
      method: "get",
      path: "/whoami",
      tag: TAG,
      summary: "The calling API key: its fingerprint and role (admin, or read for a read-only key)",
      response: z.object({ key_id: z.string(), role: z.enum(["admin", "read"]) }),
    },
    ({ res }) => {
      const caller = callerOf(res);
      send(res, { key_id: caller.id, role: caller.role });
    },
  );

  api.route(
    {
      method: "get",
      path: "/overview",
      tag: TAG,
      summary: "The overview: sends and failed attempts per minute for the last hour, queues, outbox, backlog, dead letters, live workers, breakers",
      description:
        "`rates`: per minute (UTC), channel and provider, the deliveries accepted in the last hour that were sent, and the failed attempts. `queues`: ready, unacked, consumers and oldest-message age per queue from the RabbitMQ management API (null with `queues_error` when it does not answer). `outbox`: rows not confirmed yet and the oldest one's age. `backlog`: scheduled and held deliveries. `dead_letters`: not replayed, by error code. `workers`: instances with a heartbeat in the last 15 s; `breakers`: each provider's worst state among them. Figures are cached for up to 5 s.",
    },
    async ({ res }) => send(res, await overview.read()),
  );

  const audit = new AuditLog(db);
  api.route(
    {
      method: "get",
      path: "/audit",
      tag: TAG,
      summary: "The audit log: every write (templates, routing rules, users, preferences, devices, webhook endpoints, DLQ replays and discards), newest first",
      description: "`key_id` is a fingerprint of the key that made the write (first 12 hex digits of its SHA-256), never the key. `system` marks the platform's own writes (seed data).",
      query: listAuditSchema,
      response: z.array(auditEntrySchema),
    },
    async ({ query, res }) => {
      const { items, nextCursor } = await audit.list(query);
      send(res, items, { meta: nextCursor ? { next_cursor: nextCursor } : {} });
    },
  );
}
