import type { RequestHandler } from "express";
import { createProxyMiddleware } from "http-proxy-middleware";
import type { Logger } from "@herald/logger";
import { sendError } from "./envelope";

/**
 * Forwards requests under `paths` to another service as they are (headers, body stream, status),
 * so everything is reachable on the gateway's port. An unreachable service is a 503 in the envelope.
 */
export function serviceProxy(target: string, paths: string[], logger: Logger): RequestHandler {
  return createProxyMiddleware({
    target,
    pathFilter: paths,
    changeOrigin: false,
    xfwd: true,
    proxyTimeout: 10_000,
    on: {
      proxyReq: (proxyReq, _req, res) => {
        const id = (res as unknown as { locals: { correlationId?: string } }).locals.correlationId;
        if (id) proxyReq.setHeader("X-Correlation-ID", id);
      },
      error: (error, req, res) => {
        logger.warn("upstream service unreachable", { target, path: req.url, error: error.message });
        if ("headersSent" in res && !res.headersSent && "status" in res) {
          sendError(res as never, 503, "service_unavailable", "A backing service is unavailable; try again shortly");
        } else if ("destroy" in res) {
          res.destroy();
        }
      },
    },
  }) as RequestHandler;
}
