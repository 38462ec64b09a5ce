import { randomUUID } from "node:crypto";
import type { RequestHandler } from "express";
import { withCorrelation, type Logger } from "@herald/logger";

export const CORRELATION_HEADER = "x-correlation-id";
const VALID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts X-Correlation-ID (or makes one), echoes it, and gives the request a child logger. */
export function correlation(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get(CORRELATION_HEADER);
    const id = given && VALID.test(given) ? given : randomUUID();
    res.locals.correlationId = id;
    // The child logger is made on first use: most requests never log at the configured level.
    let child: Logger | undefined;
    Object.defineProperty(res.locals, "log", { get: () => (child ??= withCorrelation(logger, id)), enumerable: true });
    res.setHeader("X-Correlation-ID", id);
    next();
  };
}
