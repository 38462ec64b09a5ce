/** Every error the platform means to show a caller: a stable snake_case code plus an HTTP status. */
export type ErrorCode =
  | "validation_failed"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "already_replayed"
  | "not_replayable"
  | "template_in_use"
  | "request_timeout"
  | "payload_too_large"
  | "unsupported_media_type"
  | "expectation_failed"
  | "headers_too_large"
  | "user_not_found"
  | "template_not_found"
  | "missing_variables"
  | "channel_not_available"
  | "routing_rule_not_found"
  | "rate_limited"
  | "service_unavailable"
  | "internal_error";

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  already_replayed: 409,
  not_replayable: 409,
  template_in_use: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  expectation_failed: 417,
  headers_too_large: 431,
  user_not_found: 422,
  template_not_found: 422,
  missing_variables: 422,
  channel_not_available: 422,
  routing_rule_not_found: 422,
  rate_limited: 429,
  service_unavailable: 503,
  internal_error: 500,
};

/** The HTTP status of a code (for answers written outside express: a raw socket, a client error). */
export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

export interface ErrorDetail {
  field?: string;
  message: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers (Retry-After, ...). */
    readonly headers?: Record<string, string>,
  ) {
    // An AppError is an answer to the caller, not a bug: no stack trace (capturing one costs more
    // than the rest of a refused request).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "AppError";
    this.status = STATUS[code];
  }

  static notFound(what: string): AppError {
    return new AppError("not_found", `${what} not found`);
  }

  static validation(details: ErrorDetail[], message = "The request is not valid"): AppError {
    return new AppError("validation_failed", message, details);
  }
}
