export { loadConfig, loadConfigOrExit, processEnv, ConfigError } from "./config";
export type { Config, WebhookPrivateAccess } from "./config";
export { envSchema } from "./schema";
