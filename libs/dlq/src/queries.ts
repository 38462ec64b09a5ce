import { recordAudit, type Actor } from "@herald/audit";
import { AppError } from "@herald/errors";
import { decodeCursor, encodeCursor, isUuid, type Database, type Prisma } from "@herald/db";
import type { DeadLetterFilter, ListDeadLettersQuery } from "./schemas";
import { toAttempt, toView, type DeadLetterDetail, type DeadLetterView } from "./view";

/** The where clause of a filter, shared by the list and the bulk replay's count. */
export function filterWhere(filter: DeadLetterFilter): Prisma.DeadLetterWhereInput {
  return {
    ...(filter.channel ? { channel: filter.channel } : {}),
    ...(filter.error_code ? { errorCode: filter.error_code } : {}),
    ...(filter.from || filter.to
      ? { createdAt: { ...(filter.from ? { gte: new Date(filter.from) } : {}), ...(filter.to ? { lt: new Date(filter.to) } : {}) } }
      : {}),
  };
}

/** Reads and removes dead letters. PostgreSQL is their source of truth, not failed.queue. */
export class DeadLetterQueries {
  constructor(private readonly db: Database) {}

  /** Newest first; `nextCursor` when more remain. */
  async list(query: ListDeadLettersQuery): Promise<{ items: DeadLetterView[]; nextCursor: string | undefined }> {
    const before = query.cursor ? decodeCursor(query.cursor) : undefined;
    const where: Prisma.DeadLetterWhereInput = {
      ...filterWhere(query),
      ...(query.replayed ? { replayedAt: query.replayed === "true" ? { not: null } : null } : {}),
      ...(before ? { id: { lt: before } } : {}),
    };
    const rows = await this.db.prisma.deadLetter.findMany({ where, orderBy: { id: "desc" }, take: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return {
      items: page.map(toView),
      nextCursor: rows.length > query.limit && page.length > 0 ? encodeCursor(page[page.length - 1]!.id) : undefined,
    };
  }

  async get(id: string): Promise<DeadLetterDetail> {
    const row = isUuid(id) ? await this.db.prisma.deadLetter.findUnique({ where: { id } }) : null;
    if (!row) throw AppError.notFound("Dead letter");
    const delivery = row.deliveryId
      ? await this.db.prisma.delivery.findUnique({ where: { id: row.deliveryId }, include: { attemptLog: { orderBy: { id: "asc" } } } })
      : null;
    return {
      ...toView(row),
      message: { routing_key: row.routingKey, payload: row.payload, headers: row.headers },
      delivery: delivery
        ? {
            status: delivery.status,
            priority: delivery.priority,
            attempts: delivery.attempts,
            last_error: delivery.lastError,
            last_error_code: delivery.lastErrorCode,
            updated_at: delivery.updatedAt.toISOString(),
          }
        : null,
      attempt_log: delivery?.attemptLog.map(toAttempt) ?? [],
    };
  }

  /** Deletes the row; a copy may still sit in failed.queue (RabbitMQ cannot remove one message). */
  async remove(id: string, actor: Actor): Promise<void> {
    const removed =
      isUuid(id) &&
      (await this.db.prisma.$transaction(async (tx) => {
        const row = await tx.deadLetter.findUnique({ where: { id } });
        if (!row) return false;
        await tx.deadLetter.delete({ where: { id } });
        await recordAudit(tx, actor, { action: "dlq.discard", target: { type: "dead_letter", id }, before: toView(row) });
        return true;
      }));
    if (!removed) throw AppError.notFound("Dead letter");
  }
}
