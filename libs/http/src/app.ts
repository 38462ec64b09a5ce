import express, { type Express, type RequestHandler } from "express";
import { AppError } from "@herald/errors";
import type { Logger } from "@herald/logger";
import { requireApiKey } from "./auth";
import { correlation } from "./correlation";
import { errorMapper, notFound } from "./errors";
import { healthRoutes, type HealthCheck } from "./health";
import { httpMetrics } from "./metrics";
import { Api, openApiDocument } from "./api";
import { docsRoutes } from "./docs";
import { parseQuery } from "./query";
import { securityHeaders } from "./security";
import { bodyTimeout, DEFAULT_REQUEST_TIMEOUT_MS } from "./timeout";
import type { OpenApiDoc } from "./openapi-merge";
import type client from "prom-client";

export interface HttpAppOptions {
  service: string;
  logger: Logger;
  registry: client.Registry;
  /** The text of /metrics, when it is not just `registry`'s (a clustered gateway). */
  metrics?: () => Promise<string>;
  checks: Record<string, HealthCheck>;
  healthDetails?: () => Record<string, unknown>;
  /** Routes behind API-key auth. Unset: no authenticated routes (workers). */
  apiKeys?: readonly string[];
  /** Keys of apiKeys that may only read (403 forbidden on any write). */
  readOnlyKeys?: readonly string[];
  /** POST paths that write nothing (a template preview): allowed to read-only keys. */
  readOnlyPosts?: readonly RegExp[];
  /** Mounted before auth: public pages that hold no data (the console's static files). */
  publicRoutes?: (app: Express) => void;
  /** Routes behind API-key auth, registered through Api so that /openapi.json describes them. */
  routes?: (api: Api) => void;
  /** Routes mounted before the body parser (proxies that stream the body through). */
  rawRoutes?: (app: Express, auth: RequestHandler) => void;
  bodyLimit?: string;
  /** Larger body limits for a few paths (the gateway's send-bulk). */
  bodyLimits?: { path: string; limit: string }[];
  /** HTTP_REQUEST_TIMEOUT: a request whose body has not arrived by then is answered 408. */
  requestTimeoutMs?: number;
  /** What GET /openapi.json serves, from this app's own document (the gateway merges in its services'). */
  openApi?: (own: OpenApiDoc) => Promise<OpenApiDoc> | OpenApiDoc;
}

/** Only JSON bodies: a POST/PUT/PATCH with a body of another type is 415. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get("content-length") ?? 0) > 0 || req.get("transfer-encoding") !== undefined;
  if (hasBody && ["POST", "PUT", "PATCH"].includes(req.method) && !req.is("application/json")) {
    throw new AppError("unsupported_media_type", "Send the body as application/json");
  }
  next();
};

/**
 * The express app of every process: correlation id, security headers (helmet; no-store on API
 * answers), the 408 for a body that does not arrive in time, metrics, health, JSON bodies (256 KB;
 * gzip, deflate and br are decoded), API-key auth on everything but health, metrics,
 * /openapi.json and /docs, the envelope, and one error mapper. listen() is the caller's, so tests
 * drive the app with supertest.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", parseQuery);
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  app.locals.requestTimeoutMs = requestTimeoutMs;
  app.use(correlation(options.logger));
  app.use(securityHeaders());
  app.use(bodyTimeout(requestTimeoutMs));
  app.use(httpMetrics(options.registry));
  app.use(
    healthRoutes({
      service: options.service,
      checks: options.checks,
      details: options.healthDetails,
      registry: options.registry,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    }),
  );
  options.publicRoutes?.(app);
  const auth = options.apiKeys
    ? requireApiKey(options.apiKeys, { readOnlyKeys: options.readOnlyKeys ?? [], readOnlyPosts: options.readOnlyPosts ?? [] })
    : undefined;
  const router = express.Router();
  const api = new Api(router);
  let document: OpenApiDoc | undefined;
  app.get("/openapi.json", async (_req, res) => {
    document ??= openApiDocument({ title: `Herald ${options.service}`, version: "1.0.0" }, api.routes) as OpenApiDoc;
    res.json(options.openApi ? await options.openApi(document) : document);
  });
  if (options.routes) app.use(docsRoutes(`Herald ${options.service} API`));
  if (options.rawRoutes && auth) options.rawRoutes(app, auth);
  if (options.routes) {
    if (auth) router.use(auth);
    router.use(requireJson);
    for (const { path, limit } of options.bodyLimits ?? []) router.post(path, express.json({ limit, type: ["application/json", "application/*+json"] }));
    router.use(express.json({ limit: options.bodyLimit ?? "256kb", type: ["application/json", "application/*+json"] }));
    options.routes(api);
    app.use(router);
  }
  app.use(notFound);
  app.use(errorMapper(options.logger));
  return app;
}
