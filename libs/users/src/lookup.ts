import { isUuid, type Prisma } from "@herald/db";

/**
 * A live user by `ref`, its id or its external_id (the id wins when both could match). `find` runs
 * the query with the where clause it is given, so callers choose what to select or include.
 */
export async function byRef<T>(ref: string, find: (where: Prisma.UserWhereInput) => Promise<T | null>): Promise<T | null> {
  return (isUuid(ref) ? await find({ id: ref, deletedAt: null }) : null) ?? (await find({ externalId: ref, deletedAt: null }));
}

/** Prisma's "record to update not found" (a user deleted between our read and our write). */
export function isRecordNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2025";
}
