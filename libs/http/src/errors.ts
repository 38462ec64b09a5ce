import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import { AppError, type ErrorDetail } from "@herald/errors";
import { isDatabaseUnavailable, isUniqueViolation } from "@herald/db";
import type { Logger } from "@herald/logger";
import { sendError } from "./envelope";

/** Unknown routes: 404 in the envelope (through the error mapper, which reads off any body first). */
export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError("not_found", `No route for ${req.method} ${req.path}`));
};

interface LibraryError {
  type?: string;
  status?: number;
  statusCode?: number;
  /** The limit that was exceeded, in bytes. */
  limit?: number;
  code?: string;
  message?: string;
}

/**
 * What a library's own 4xx error (body-parser, the router, serve-static) is in our terms. The
 * router throws 400 for a path whose percent-encoding does not decode; body-parser throws 400 for
 * a body that does not decode as its Content-Encoding says (zlib's Z_* or brotli's codes).
 */
function fromLibrary(error: LibraryError): AppError | undefined {
  if (error.type === "entity.too.large") return new AppError("payload_too_large", `The request body is larger than ${Math.round((error.limit ?? 262_144) / 1024)} KB`);
  if (error.type === "entity.parse.failed") return AppError.validation([{ field: "(body)", message: "invalid JSON" }], "The request body is not valid JSON");
  if (error.type === "encoding.unsupported") {
    return new AppError("unsupported_media_type", "Unsupported Content-Encoding: send the body as is, or gzip, deflate or br", [{ field: "Content-Encoding", message: "is not gzip, deflate, br or identity" }]);
  }
  if (error.type === "charset.unsupported") return new AppError("unsupported_media_type", "Unsupported charset: send the body as UTF-8", [{ field: "Content-Type", message: "charset is not utf-8" }]);
  if (error.type === "request.aborted") return new AppError("validation_failed", "The request body ended before its Content-Length", [{ field: "(body)", message: "incomplete" }]);
  const status = error.status ?? error.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (error instanceof URIError || /decode param/i.test(error.message ?? "")) {
    return AppError.validation([{ field: "(path)", message: "is not valid percent-encoded UTF-8" }], "The request path does not decode");
  }
  if (/^(Z_|ERR_BROTLI|ERR__ERROR_FORMAT)/.test(error.code ?? "") || /incorrect header check|invalid|unexpected end of file/i.test(error.message ?? "")) {
    return AppError.validation([{ field: "(body)", message: "does not decode as its Content-Encoding says" }], "The request body does not decode");
  }
  if (status === 404) return AppError.notFound("This");
  if (status === 413) return new AppError("payload_too_large", "The request is too large");
  if (status === 415) return new AppError("unsupported_media_type", "Unsupported media type");
  return AppError.validation([{ message: error.message ?? "bad request" }], "The request is not valid");
}

/** A unique violation that no service turned into its own 409 (a race the code did not foresee). */
function uniqueConflict(error: unknown): AppError {
  const target = (error as { meta?: { target?: unknown } }).meta?.target;
  const fields = Array.isArray(target) ? target.map(String) : [];
  const details: ErrorDetail[] = fields.map((field) => ({ field, message: "already exists" }));
  return new AppError("conflict", "It already exists (written by a concurrent request)", details);
}

/** Bodies larger than this are not read to the end before an error answer; the connection is closed instead. */
const DRAIN_LIMIT = 8 * 1024 * 1024;

/**
 * Runs `answer` once the request's body has been read off the connection. An answer given while
 * the client (or the gateway's proxy) is still writing a body would be followed by a close with
 * unread data, a TCP reset that can destroy the answer before the client reads it. Reading the
 * rest costs little (HTTP_REQUEST_TIMEOUT bounds a body that never ends).
 */
function whenBodyRead(req: Request, res: Response, answer: () => void): void {
  if (req.readableEnded || req.destroyed) return answer();
  if (Number(req.get("content-length") ?? 0) > DRAIN_LIMIT) {
    res.setHeader("Connection", "close");
    return answer();
  }
  let done = false;
  const once = () => {
    if (done || res.headersSent) return;
    done = true;
    answer();
  };
  req.once("end", once);
  req.once("error", once);
  req.resume();
}

/** The one place errors become HTTP answers. Never a stack trace, never HTML. */
export function errorMapper(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) return next(error);
    whenBodyRead(req, res, () => answerError(error, res, logger));
  };
}

function answerError(error: unknown, res: Response, logger: Logger): void {
  const known = error instanceof AppError ? error : isUniqueViolation(error) ? uniqueConflict(error) : fromLibrary((error ?? {}));
  if (known) {
    for (const [name, value] of Object.entries(known.headers ?? {})) res.setHeader(name, value);
    sendError(res, known.status, known.code, known.message, known.details);
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
}
