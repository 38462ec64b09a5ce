export { createLogger, withCorrelation } from "./logger";
export type { Logger, LoggerOptions } from "./logger";
