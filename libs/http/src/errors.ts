import type { ErrorRequestHandler, RequestHandler } from "express";
import { AppError } from "@herald/errors";
import { isDatabaseUnavailable } from "@herald/db";
import type { Logger } from "@herald/logger";
import { sendError } from "./envelope";

/** Unknown routes: 404 in the envelope. */
export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, "not_found", `No route for ${req.method} ${req.path}`);
};

interface BodyParserError {
  type?: string;
  status?: number;
  /** The limit that was exceeded, in bytes. */
  limit?: number;
}

/** The one place errors become HTTP answers. Never a stack trace, never HTML. */
export function errorMapper(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof AppError) {
      for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
      sendError(res, error.status, error.code, error.message, error.details);
      return;
    }
    const bodyError = error as BodyParserError;
    if (bodyError.type === "entity.too.large") {
      sendError(res, 413, "payload_too_large", `The request body is larger than ${Math.round((bodyError.limit ?? 262_144) / 1024)} KB`);
      return;
    }
    if (bodyError.type === "entity.parse.failed") {
      sendError(res, 400, "validation_failed", "The request body is not valid JSON", [{ field: "(body)", message: "invalid JSON" }]);
      return;
    }
    if (bodyError.type === "encoding.unsupported" || bodyError.type === "charset.unsupported") {
      sendError(res, 415, "unsupported_media_type", "Unsupported body encoding or charset");
      return;
    }
    const log = (res.locals.log as Logger | undefined) ?? logger;
    if (isDatabaseUnavailable(error)) {
      log.error("database unavailable", { error: String(error) });
      res.setHeader("Retry-After", "5");
      sendError(res, 503, "service_unavailable", "The database is unavailable; try again shortly");
      return;
    }
    log.error("unhandled error", { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    sendError(res, 500, "internal_error", "Something went wrong on our side; the correlation id identifies it in the logs");
  };
}
