import winston from "winston";

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** The process name, on every line as `service`. */
  service: string;
  level?: string;
  /** Silences output entirely (tests that assert on nothing logged). */
  silent?: boolean;
}

/** One JSON line per event on stdout, with timestamp, level, service and whatever the child adds. */
export function createLogger({ service, level = "info", silent = false }: LoggerOptions): Logger {
  return winston.createLogger({
    level,
    silent,
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** A child logger for one request or message: every line it writes carries the correlation id. */
export function withCorrelation(logger: Logger, correlationId: string, extra: Record<string, unknown> = {}): Logger {
  return logger.child({ correlation_id: correlationId, ...extra });
}
