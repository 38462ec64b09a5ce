import { createHttpApp, type Express } from "@herald/http";
import type { Runtime } from "@herald/runtime";
import { UserDirectory, UserService } from "@herald/users";
import { userRoutes } from "./routes/users";

export function createUserServiceApp(runtime: Runtime): Express {
  const { config, db, redis, logger, registry, checks } = runtime;
  const users = new UserService(db, new UserDirectory(db, redis, logger));
  return createHttpApp({
    service: "user-service",
    logger,
    registry,
    checks,
    apiKeys: config.apiKeys,
    requestTimeoutMs: config.http.requestTimeoutMs,
    readOnlyKeys: config.readOnlyApiKeys,
    routes: (api) => userRoutes(api, users),
  });
}
