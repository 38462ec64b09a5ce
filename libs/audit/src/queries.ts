import { decodeCursor, encodeCursor, type Database, type Prisma } from "@herald/db";
import type { AuditEntryView, ListAuditQuery } from "./schemas";

/** Reads the audit log, newest first (ids are time-ordered). */
export class AuditLog {
  constructor(private readonly db: Database) {}

  async list(query: ListAuditQuery): Promise<{ items: AuditEntryView[]; nextCursor: string | undefined }> {
    const before = query.cursor ? decodeCursor(query.cursor) : undefined;
    const where: Prisma.AuditEntryWhereInput = {
      ...(query.action ? { action: query.action } : {}),
      ...(query.target_type ? { targetType: query.target_type } : {}),
      ...(query.target_id ? { targetId: query.target_id } : {}),
      ...(query.key_id ? { keyId: query.key_id } : {}),
      ...(query.from || query.to ? { at: { ...(query.from ? { gte: new Date(query.from) } : {}), ...(query.to ? { lt: new Date(query.to) } : {}) } } : {}),
      ...(before ? { id: { lt: before } } : {}),
    };
    const rows = await this.db.prisma.auditEntry.findMany({ where, orderBy: { id: "desc" }, take: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        key_id: r.keyId,
        action: r.action,
        target: { type: r.targetType, id: r.targetId },
        before: r.before ?? null,
        after: r.after ?? null,
        correlation_id: r.correlationId,
      })),
      nextCursor: rows.length > query.limit && page.length > 0 ? encodeCursor(page[page.length - 1]!.id) : undefined,
    };
  }
}
