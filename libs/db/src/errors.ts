/** PostgreSQL SQLSTATE codes we act on. */
const UNIQUE_VIOLATION = "23505";
const CONNECTION_CLASS = "08";
/** Insufficient resources: too many connections (53300), out of memory, disk full. */
const RESOURCES_CLASS = "53";

function codeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; meta?: { code?: unknown } };
  // Prisma's own code for a unique violation (it looks like a SQLSTATE, so it goes first).
  if (e.code === "P2002") return UNIQUE_VIOLATION;
  if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  return codeOf(e.cause);
}

export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === UNIQUE_VIOLATION;
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]);
const NETWORK_MESSAGE = /ECONNREFUSED|ECONNRESET|Connection terminated|timeout exceeded when trying to connect|Can't reach database/i;

/**
 * Prisma's "Unable to start a transaction in the given time": every pooled connection stayed busy
 * past the transaction's wait (a loaded machine, a burst). Nothing was written; try again.
 */
const TRANSACTION_START_TIMEOUT = "P2028";

/** PostgreSQL is unreachable, refused the connection, or had no connection free in time: callers answer 503, not 500. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 5) return false;
  const code = codeOf(error);
  if (code?.startsWith(CONNECTION_CLASS) || code?.startsWith(RESOURCES_CLASS) || code === "57P01" || code === "57P02" || code === "57P03" || code === TRANSACTION_START_TIMEOUT) return true;
  const e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.message === "string" && NETWORK_MESSAGE.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}
