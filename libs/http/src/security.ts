import helmet from "helmet";
import type { RequestHandler } from "express";

/**
 * Pages a browser renders (Swagger UI at /docs, the operator console at /console): their own
 * scripts, styles, images and fonts from this origin only, no CDN. Swagger UI sets inline style
 * attributes and data: images, so styles allow 'unsafe-inline' and images data:; scripts do not.
 */
const PAGE_PREFIXES = ["/docs", "/console"];
const pagePolicy = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "style-src": ["'self'", "'unsafe-inline'"],
      "img-src": ["'self'", "data:"],
      "font-src": ["'self'", "data:"],
      "connect-src": ["'self'"],
      "object-src": ["'none'"],
      "base-uri": ["'self'"],
      "form-action": ["'self'"],
      "frame-ancestors": ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
});

/** Everything else is JSON for programs: nothing in it may load, run or be framed. */
const apiPolicy = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { "default-src": ["'none'"], "frame-ancestors": ["'none'"] } },
});

export const isPagePath = (path: string) => PAGE_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

/**
 * helmet's headers on every answer (nosniff, frame and referrer policies, HSTS, ...) with a CSP
 * for a JSON API, or for a page under /docs and /console; API answers also carry
 * `Cache-Control: no-store` (they hold recipients' data and keys' results) and ignore conditional
 * request headers. An OPTIONS request
 * (no CORS here) is 204 with no body rather than express's plain-text method list.
 */
export function securityHeaders(): RequestHandler {
  return (req, res, next) => {
    const page = isPagePath(req.path);
    if (!page) {
      res.setHeader("Cache-Control", "no-store");
      // Nothing here is cached, so a conditional GET has nothing to match: express would answer
      // `If-None-Match: *` (or any If-Modified-Since) with an empty 304 instead of the envelope.
      delete req.headers["if-none-match"];
      delete req.headers["if-modified-since"];
    }
    (page ? pagePolicy : apiPolicy)(req, res, (error?: unknown) => {
      if (error) return next(error);
      if (req.method === "OPTIONS") {
        res.status(204).end();
        return;
      }
      next();
    });
  };
}

/** The headers of an answer written straight to a socket (a request Node could not parse). */
export const RAW_SECURITY_HEADERS: Record<string, string> = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
  "X-Frame-Options": "SAMEORIGIN",
};
