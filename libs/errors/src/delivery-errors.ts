/**
 * What a provider adapter throws when a send fails. The worker runtime decides on the class alone:
 * a RetryableDeliveryError is retried with backoff; a PermanentDeliveryError goes straight to the
 * dead-letter queue; an UndeliverableError marks the delivery failed (there is nothing to replay:
 * the user has no device left, was deleted, ...). `code` is a short snake_case reason shown in the
 * delivery's last_error_code.
 */
export abstract class DeliveryError extends Error {
  abstract readonly retryable: boolean;
  /** Whether a final failure belongs in the dead-letter queue (replayable by an operator). */
  readonly deadLetter: boolean = true;
  /** What the provider reported before failing (per-device results, ...), kept with the delivery. */
  readonly outcome: unknown;

  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; outcome?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.outcome = options?.outcome;
  }
}

/** The provider may accept it later: timeouts, connection errors, 4xx SMTP replies, HTTP 429/5xx. */
export class RetryableDeliveryError extends DeliveryError {
  readonly retryable = true;
  override readonly name = "RetryableDeliveryError";
}

/** Retrying cannot help: invalid address, rejected content, unknown recipient, HTTP 4xx. */
export class PermanentDeliveryError extends DeliveryError {
  readonly retryable = false;
  override readonly name = "PermanentDeliveryError";
}

/** Nothing to retry and nothing to replay: the delivery ends as `failed`. */
export class UndeliverableError extends DeliveryError {
  readonly retryable = false;
  override readonly deadLetter = false;
  override readonly name = "UndeliverableError";
}

/** Anything a provider threw that is not a DeliveryError is treated as retryable (unknown cause). */
export function asDeliveryError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RetryableDeliveryError("provider_error", message, { cause: error });
}
