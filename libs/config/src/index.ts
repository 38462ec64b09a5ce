export { loadConfig, loadConfigOrExit, processEnv, ConfigError, configSchema } from "./config";
export type { Config, WebhookPrivateAccess } from "./config";
export { envSchema, parseDuration, durationField } from "./schema";
export type { Env, SmtpServer } from "./schema";
