import { z } from "zod";
import { decodeCursor, isUuid, type Database } from "@herald/db";
import { send, type Api } from "@herald/http";
import { listSandboxMessages } from "@herald/providers";

const query = z.object({
  channel: z.enum(["email", "push", "sms", "whatsapp"]).optional(),
  to: z.string().max(320).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .max(200)
    .refine((c) => isUuid(decodeCursor(c) ?? ""), "is not a cursor this list gave")
    .optional(),
});

/** What the dev inbox and the sandbox providers caught. Not mounted in production. */
export function sandboxRoutes(api: Api, db: Database): void {
  api.route(
    {
      method: "get",
      path: "/sandbox/messages",
      tag: "Sandbox",
      summary: "Messages caught by the dev inbox (email) and the sandbox providers (push, sms, whatsapp), newest first",
      query,
    },
    async ({ query: q, res }) => {
      const { messages, nextCursor } = await listSandboxMessages(db, {
        limit: q.limit,
        ...(q.channel ? { channel: q.channel } : {}),
        ...(q.to ? { to: q.to } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      send(res, messages, { meta: nextCursor ? { next_cursor: nextCursor } : {} });
    },
  );
}
