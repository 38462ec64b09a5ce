import { EventEmitter } from "node:events";
import CircuitBreaker from "opossum";
import { DeliveryError } from "@herald/errors";

export type BreakerState = "closed" | "open" | "half_open";

/** Leave to make one call through the breaker. */
export interface BreakerPermit {
  fire<T>(call: () => Promise<T>): Promise<T>;
  /** Gives the permit back unused (the caller decided not to call the provider). */
  release(): void;
}

export interface BreakerOptions {
  /** CIRCUIT_BREAKER_FAILURE_THRESHOLD: consecutive failures that open the breaker. */
  failureThreshold: number;
  /** CIRCUIT_BREAKER_RECOVERY_TIMEOUT: how long it stays open before one trial call. */
  recoveryTimeoutMs: number;
  /** A call slower than this fails (and counts as a failure). */
  timeoutMs?: number;
  /**
   * The longest a half-open trial may take from its permit to its outcome; past it the breaker
   * opens again (a trial can never hold the breaker half-open forever). Default: the recovery time.
   */
  trialTimeoutMs?: number;
}

/** The breaker is open (or a half-open trial is under way): the call was not made. */
export class BreakerOpenError extends Error {
  constructor(readonly provider: string) {
    super(`circuit breaker for ${provider} is open`);
    this.name = "BreakerOpenError";
  }
}

/**
 * One breaker per provider, on opossum. opossum opens on an error percentage over a rolling
 * window; the contract wants N consecutive failures, so we count them here and open the breaker
 * ourselves, with opossum's own percentage trigger switched off. Permanent errors (a bad address)
 * say nothing about the provider's health and do not count.
 *
 * Half-open lets exactly one trial call through; callers that arrive meanwhile wait for its
 * outcome in `acquire()` instead of being turned away and coming straight back. A trial that does
 * not end within `trialTimeoutMs` (its call hangs, or its holder never fires nor releases it)
 * opens the breaker again, so half-open never lasts without a trial that can still end.
 *
 * Events: 'open', 'half_open', 'closed' (state changes, for pausing consumers and metrics).
 */
export class ProviderBreaker extends EventEmitter {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private consecutiveFailures = 0;
  private trial: Promise<void> | undefined;
  private settleTrial: (() => void) | undefined;
  private trialTimer: NodeJS.Timeout | undefined;
  private readonly trialTimeoutMs: number;

  constructor(
    readonly provider: string,
    options: BreakerOptions,
  ) {
    super();
    this.trialTimeoutMs = options.trialTimeoutMs ?? options.recoveryTimeoutMs;
    this.breaker = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      name: provider,
      timeout: options.timeoutMs ?? false,
      resetTimeout: options.recoveryTimeoutMs,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      errorThresholdPercentage: 100,
      errorFilter: (error: unknown) => error instanceof DeliveryError && !error.retryable,
    });
    this.breaker.on("success", () => (this.consecutiveFailures = 0));
    this.breaker.on("failure", () => {
      this.consecutiveFailures += 1;
      if (this.consecutiveFailures >= options.failureThreshold && this.breaker.closed) this.breaker.open();
    });
    this.breaker.on("open", () => {
      this.endTrial();
      this.emit("open");
    });
    this.breaker.on("halfOpen", () => this.emit("half_open"));
    this.breaker.on("close", () => {
      this.consecutiveFailures = 0;
      this.endTrial();
      this.emit("closed");
    });
  }

  get state(): BreakerState {
    if (this.breaker.closed) return "closed";
    return this.breaker.halfOpen ? "half_open" : "open";
  }

  /**
   * Waits until a call may be made: at once when closed; when half-open, the first caller gets the
   * one trial and the others wait for its outcome. Rejects with BreakerOpenError while open.
   * The permit must be used (`fire`) or given back (`release`).
   */
  async acquire(): Promise<BreakerPermit> {
    for (;;) {
      const permit = this.tryAcquire();
      if (permit) return permit;
      if (!this.breaker.halfOpen) throw new BreakerOpenError(this.provider);
      await this.trial;
    }
  }

  /**
   * A permit now, or undefined: closed gives one; half-open gives the trial if nobody has it;
   * open, or half-open with the trial taken, gives none (a caller with another provider moves on).
   */
  tryAcquire(): BreakerPermit | undefined {
    if (this.breaker.closed) return this.permit(false);
    if (!this.breaker.halfOpen || this.trial) return undefined;
    this.trial = new Promise<void>((resolve) => (this.settleTrial = resolve));
    this.trialTimer = setTimeout(() => this.trialExpired(), this.trialTimeoutMs);
    this.trialTimer.unref();
    return this.permit(true);
  }

  private permit(isTrial: boolean): BreakerPermit {
    let used = false;
    return {
      fire: async <T>(call: () => Promise<T>): Promise<T> => {
        used = true;
        try {
          return (await this.breaker.fire(call)) as T;
        } catch (error) {
          if (isOpossumRejection(error)) throw new BreakerOpenError(this.provider);
          throw error;
        } finally {
          // A trial whose call ended without changing the state (a filtered error) hands over.
          if (isTrial && this.breaker.halfOpen) this.endTrial();
        }
      },
      release: () => {
        if (isTrial && !used) this.endTrial();
      },
    };
  }

  shutdown(): void {
    this.endTrial();
    this.breaker.shutdown();
  }

  /** The trial took too long: the provider is not back, open again (the waiting callers see it). */
  private trialExpired(): void {
    this.trialTimer = undefined;
    if (!this.trial) return;
    if (this.breaker.halfOpen) this.breaker.open();
    this.endTrial();
  }

  private endTrial(): void {
    clearTimeout(this.trialTimer);
    this.trialTimer = undefined;
    const settle = this.settleTrial;
    this.trial = undefined;
    this.settleTrial = undefined;
    settle?.();
  }
}

function isOpossumRejection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "EOPENBREAKER" || code === "ESHUTDOWN";
}
