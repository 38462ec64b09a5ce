import { createHttpApp, type Express } from "@herald/http";
import type { Runtime } from "@herald/runtime";
import { TEMPLATE_PREVIEW_PATH, TemplateCatalog, TemplateService } from "@herald/templates";
import { templateRoutes } from "./routes/templates";

export function createTemplateServiceApp(runtime: Runtime): Express {
  const { config, db, redis, logger, registry, checks } = runtime;
  const templates = new TemplateService(db, new TemplateCatalog(db, redis, logger));
  return createHttpApp({
    service: "template-service",
    logger,
    registry,
    checks,
    apiKeys: config.apiKeys,
    requestTimeoutMs: config.http.requestTimeoutMs,
    readOnlyKeys: config.readOnlyApiKeys,
    readOnlyPosts: [TEMPLATE_PREVIEW_PATH],
    routes: (api) => templateRoutes(api, templates),
  });
}
