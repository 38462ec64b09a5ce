export { loadConfig, loadConfigOrExit, processEnv, ConfigError } from "./config";
export type { Config } from "./config";
export { envSchema, parseDuration, durationField } from "./schema";
export type { Env, SmtpServer } from "./schema";
