export { loadConfig, loadConfigOrExit, processEnv, ConfigError } from "./config";
export type { Config } from "./config";
export { envSchema } from "./schema";
export type { Env, SmtpServer } from "./schema";
