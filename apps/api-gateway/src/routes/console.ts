import fs from "node:fs";
import path from "node:path";
import express, { type Express } from "express";
import { sendError } from "@herald/http";

/** apps/console/dist, from apps/api-gateway/src/routes (tests) or apps/api-gateway/dist (the bundle). */
export const CONSOLE_DIST = path.join(__dirname.slice(0, __dirname.lastIndexOf(`${path.sep}api-gateway${path.sep}`)), "console", "dist");

/**
 * The console's policy: only its own files (no inline script or style, no CDN), calls only to this
 * origin, email previews in a sandboxed frame, and never framed itself.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * GET /console: the operator console's static files (apps/console, built by `npm run build`). The
 * page holds no data and needs no key to load; everything it shows it asks the public API for,
 * with the key the operator signs in with (kept in sessionStorage).
 */
export function consoleRoutes(app: Express): void {
  app.use("/console", (_req, res, next) => {
    res.setHeader("Content-Security-Policy", CONSOLE_CSP);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    next();
  });
  app.use(
    "/console/assets",
    express.static(path.join(CONSOLE_DIST, "assets"), { immutable: true, maxAge: "365d", index: false, fallthrough: true }),
  );
  app.use("/console", express.static(CONSOLE_DIST, { index: "index.html", maxAge: 0, fallthrough: true }));
  app.use("/console", (req, res) => {
    if (!fs.existsSync(path.join(CONSOLE_DIST, "index.html"))) {
      sendError(res, 503, "service_unavailable", "The console is not built: run npm run build (or npm start)");
      return;
    }
    sendError(res, 404, "not_found", `No console file ${req.originalUrl}`);
  });
}
