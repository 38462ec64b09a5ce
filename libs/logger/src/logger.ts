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
  const logger = winston.createLogger({
    level,
    silent,
    defaultMeta: { service },
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
  // winston formats every entry (timestamp, JSON) before its transports drop the ones below their
  // level: a debug or info line on a hot path cost that much even with LOG_LEVEL=warn. Return early
  // instead. Child loggers inherit these methods, and the check reads the level at call time.
  for (const name of Object.keys(logger.levels)) {
    const write = (logger as unknown as Record<string, (...args: unknown[]) => Logger>)[name]!;
    Object.defineProperty(logger, name, {
      value: function (this: Logger, ...args: unknown[]): Logger {
        return this.isLevelEnabled(name) ? write.apply(this, args) : this;
      },
    });
  }
  return logger;
}

/** A child logger for one request or message: every line it writes carries the correlation id. */
export function withCorrelation(logger: Logger, correlationId: string, extra: Record<string, unknown> = {}): Logger {
  return logger.child({ correlation_id: correlationId, ...extra });
}
