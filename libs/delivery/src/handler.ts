import type { SendOutcome } from "@herald/channels";
import type { Channel } from "@herald/db";
import type { Logger } from "@herald/logger";
import type { RenderedMessage, TemplateVersionView } from "@herald/templates";
import type { UserProfile } from "@herald/users";
import type { ClaimedDelivery } from "./repository";

/** What a channel handler gets for one attempt. */
export interface SendContext {
  delivery: ClaimedDelivery;
  user: UserProfile;
  template: TemplateVersionView;
  rendered: RenderedMessage;
  logger: Logger;
}

export type { SendOutcome };

/**
 * One provider of a channel, as the worker drives it: a plain async function of (message, context)
 * that sends through the provider or throws a DeliveryError. It knows nothing of queues, acks,
 * retries or breakers. A channel with several providers has one handler each, in order of
 * preference: the worker fails over from one to the next.
 */
export interface ChannelHandler {
  channel: Channel;
  /** The provider's name: one breaker per provider. */
  provider: string;
  /** Consecutive failures that open this provider's breaker (default: the policy's). */
  breakerFailureThreshold?: number;
  /** Sends that can usefully be in flight at once (the provider's connection pool). */
  concurrency: number;
  /**
   * The provider's own time limit for one call. The worker gives every call this plus a second,
   * waiting for a pooled connection included; past it the call is a retryable failure and
   * `reset()` runs.
   */
  deadlineMs: number;
  /** Throws away the provider's connections (it missed its deadline), so the next call starts afresh. */
  reset?(): void;
  /**
   * Its outbound rate budget, shared by every replica: `key` names it in Redis (default
   * "<provider>:<channel>"), `perSecond` whole sends per second (default: the channel's
   * *_RATE_PER_SECOND; 0 = unlimited). Messages wait for it; they are never failed for it.
   */
  budget?: { key?: string; perSecond?: number };
  send(context: SendContext): Promise<SendOutcome>;
}

/** What a handler takes from its provider adapter: its name (the breaker's), pool, deadline and reset. */
export function providerParts(provider: { name: string; concurrency: number; deadlineMs: number; reset?(): void }): Pick<
  ChannelHandler,
  "provider" | "concurrency" | "deadlineMs" | "reset"
> {
  return {
    provider: provider.name,
    concurrency: provider.concurrency,
    deadlineMs: provider.deadlineMs,
    ...(provider.reset ? { reset: () => provider.reset!() } : {}),
  };
}
