import type { RequestHandler } from "express";
import { sendError } from "./envelope";

/** HTTP_REQUEST_TIMEOUT when the caller gives none. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/**
 * A request whose body has not fully arrived `ms` after its headers is answered 408
 * request_timeout and its connection closed (a slow or stalled client holds no handler, no pool
 * connection and no memory past that). The check is made when the timer fires, so a request that
 * is merely slow to be handled is never cut.
 */
export function bodyTimeout(ms: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (req.complete || res.headersSent) return;
      res.setHeader("Connection", "close");
      sendError(res, 408, "request_timeout", `The request body did not arrive within ${ms / 1000} s`, [{ field: "(body)", message: "incomplete when the time ran out" }]);
    }, ms);
    res.once("close", () => clearTimeout(timer));
    next();
  };
}
