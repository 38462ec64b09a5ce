import type { Request, Response, Router } from "express";
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from "zod-openapi";
import { assertStorable } from "./input-guard";
import { parse } from "./validation";

type Method = "get" | "post" | "put" | "patch" | "delete";
type Schema = z.ZodType | undefined;
type Out<T extends Schema, Fallback> = T extends z.ZodType ? z.output<T> : Fallback;

/**
 * One route: what it accepts and answers, as zod schemas. The same schemas validate the request
 * (400 validation_failed naming each bad field) and describe it in the OpenAPI document, so the
 * documentation cannot drift from the code.
 */
export interface RouteSpec<B extends Schema = Schema, Q extends Schema = Schema, P extends Schema = Schema> {
  method: Method;
  /** Express syntax: /users/:id */
  path: string;
  summary: string;
  tag: string;
  description?: string;
  body?: B;
  query?: Q;
  params?: P;
  /** The schema of the envelope's `data` on success. */
  response?: z.ZodType;
  /** Success status (200). 204 answers have no body. */
  status?: number;
  /** Error statuses worth documenting besides 400/401. */
  errors?: number[];
}

export interface RouteInput<B extends Schema, Q extends Schema, P extends Schema> {
  body: Out<B, undefined>;
  query: Out<Q, undefined>;
  params: Out<P, Record<string, string>>;
  req: Request;
  res: Response;
}

/** Routes registered through here are validated from, and documented by, their spec. */
export class Api {
  readonly routes: RouteSpec[] = [];

  constructor(private readonly router: Router) {}

  route<B extends Schema = undefined, Q extends Schema = undefined, P extends Schema = undefined>(
    spec: RouteSpec<B, Q, P>,
    handler: (input: RouteInput<B, Q, P>) => Promise<void> | void,
  ): void {
    this.routes.push(spec);
    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      // Before any schema: values PostgreSQL cannot store, and nesting deep enough to hurt.
      assertStorable(req.params, "request path");
      assertStorable(req.query, "query string");
      if (req.body !== undefined) assertStorable(req.body, "request body");
      const params = (spec.params ? parse(spec.params, req.params, "path") : req.params) as Out<P, Record<string, string>>;
      const query = (spec.query ? parse(spec.query, req.query, "query") : undefined) as Out<Q, undefined>;
      const body = (spec.body ? parse(spec.body, req.body ?? {}) : undefined) as Out<B, undefined>;
      await handler({ body, query, params, req, res });
    });
  }
}

const errorEnvelope = z
  .object({
    success: z.literal(false),
    data: z.null(),
    error: z.object({ code: z.string(), details: z.array(z.record(z.string(), z.unknown())).optional() }),
    message: z.string(),
    meta: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "ErrorEnvelope" });

function successEnvelope(data: z.ZodType): z.ZodType {
  return z.object({
    success: z.literal(true),
    data,
    error: z.null(),
    message: z.string(),
    meta: z.object({ correlation_id: z.string(), next_cursor: z.string().optional() }).catchall(z.unknown()),
  });
}

const ERROR_TEXT: Record<number, string> = {
  400: "validation_failed: details name each bad field",
  401: "unauthorized: missing or wrong API key",
  403: "forbidden: the API key is read-only (API_KEYS entry ending in :read)",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large (> 256 KB)",
  415: "unsupported_media_type (send application/json)",
  422: "refers to something that does not exist or cannot be used",
  429: "rate_limited (Retry-After, RateLimit-* headers)",
  503: "a dependency is down",
};

function operation(spec: RouteSpec): ZodOpenApiOperationObject {
  const status = spec.status ?? 200;
  const pathNames = [...spec.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!);
  const params =
    spec.params ?? (pathNames.length > 0 ? z.object(Object.fromEntries(pathNames.map((n) => [n, z.string()]))) : undefined);
  // Any write with a read-only key is 403 forbidden (the auth middleware refuses it).
  const errors = [...new Set([400, 401, ...(spec.method === "get" ? [] : [403]), ...(spec.errors ?? [])])].sort();
  const responses: Record<string, ZodOpenApiResponseObject> = {
    [String(status)]:
      status === 204
        ? { description: "Done; no body" }
        : { description: "Success", content: { "application/json": { schema: successEnvelope(spec.response ?? z.unknown()) } } },
  };
  for (const code of errors) {
    responses[String(code)] = { description: ERROR_TEXT[code] ?? "error", content: { "application/json": { schema: errorEnvelope } } };
  }
  return {
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [spec.tag],
    operationId: `${spec.method}${spec.path.replace(/[:/{}-]+(\w)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    ...(params || spec.query
      ? {
          requestParams: {
            ...(params ? { path: params as z.ZodObject } : {}),
            ...(spec.query ? { query: spec.query as z.ZodObject } : {}),
          },
        }
      : {}),
    ...(spec.body ? { requestBody: { content: { "application/json": { schema: spec.body } } } } : {}),
    responses: responses,
  };
}

/** The OpenAPI 3.1 document of a set of routes. */
export function openApiDocument(info: { title: string; version: string; description?: string }, routes: RouteSpec[]): ReturnType<typeof createDocument> {
  const paths: ZodOpenApiPathsObject = {};
  for (const spec of routes) {
    const path = spec.path.replace(/:([A-Za-z_]+)/g, "{$1}");
    paths[path] = { ...paths[path], [spec.method]: operation(spec) };
  }
  return createDocument({
    openapi: "3.1.0",
    info,
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        bearer: { type: "http", scheme: "bearer" },
      },
    },
    security: [{ apiKey: [] }, { bearer: [] }],
  });
}
