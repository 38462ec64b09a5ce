import { decodeCursor, encodeCursor, type Database } from "@herald/db";

export interface SandboxMessageView {
  id: string;
  channel: string;
  to: string;
  subject: string | null;
  body: string | null;
  html: string | null;
  payload: unknown;
  delivery_id: string | null;
  created_at: string;
}

/** What the dev inbox and the sandbox providers caught, newest first. */
export async function listSandboxMessages(
  db: Database,
  filter: { channel?: string; to?: string; limit: number; cursor?: string },
): Promise<{ messages: SandboxMessageView[]; nextCursor: string | undefined }> {
  const before = filter.cursor ? decodeCursor(filter.cursor) : undefined;
  const rows = await db.prisma.sandboxMessage.findMany({
    where: {
      ...(filter.channel ? { channel: filter.channel } : {}),
      ...(filter.to ? { to: { contains: filter.to } } : {}),
      ...(before ? { id: { lt: before } } : {}),
    },
    orderBy: { id: "desc" },
    take: filter.limit + 1,
  });
  const page = rows.slice(0, filter.limit);
  return {
    messages: page.map((r) => ({
      id: r.id,
      channel: r.channel,
      to: r.to,
      subject: r.subject,
      body: r.body,
      html: r.html,
      payload: r.payload,
      delivery_id: r.deliveryId,
      created_at: r.createdAt.toISOString(),
    })),
    nextCursor: rows.length > filter.limit && page.length > 0 ? encodeCursor(page[page.length - 1]!.id) : undefined,
  };
}
