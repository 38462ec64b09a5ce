import type https from "node:https";
import type { Redis } from "@herald/cache";
import type { Config } from "@herald/config";
import type { Channel, Database, Priority } from "@herald/db";
import type { Logger } from "@herald/logger";
import type { Resolver } from "@herald/providers";
import type { RenderedMessage } from "@herald/templates";
import type { Preferences, UserProfile } from "@herald/users";

/** What a provider told us of a send that it accepted. */
export interface SendOutcome {
  providerMessageId: string | null;
  /** What the provider reported per recipient (push: each device's result), kept with the delivery. */
  outcome?: unknown;
}

/** One message to send, already decided: for which delivery, to whom, what. */
export interface Outgoing {
  delivery: { id: string; requestId: string; correlationId: string; priority: Priority; attempt: number };
  user: UserProfile;
  rendered: RenderedMessage;
  logger: Logger;
}

/** What every provider adapter has: a name (its breaker's), a pool, a deadline, and a close. */
export interface ChannelProvider {
  readonly name: string;
  readonly concurrency: number;
  readonly deadlineMs: number;
  reset?(): void;
  close(): Promise<void>;
}

/** How tests reach local fakes of real providers (an agent that trusts the fake, a resolver). */
export interface ProviderHooks {
  httpsAgent?: https.Agent;
  resolver?: Resolver;
  ca?: string;
}

/** What a channel builds its providers from. */
export interface ChannelContext {
  config: Config;
  db: Database;
  redis: Redis;
  logger: Logger;
  hooks: ProviderHooks;
  /** One instance per key in the process: sms and whatsapp share one Twilio client, so one breaker. */
  shared: <T extends object>(key: string, make: () => T) => T;
}

type PreferenceFlag = { [K in keyof Preferences]: Preferences[K] extends boolean ? K : never }[keyof Preferences];

/**
 * Everything the platform knows about one channel, in one place: its name, the work queue its
 * messages go to (routing key = the name), the preference that turns it off, where it reaches a
 * user, its outbound rate, its providers in order of preference (failover), and how one message
 * is sent through one of them. Topology, preferences, reachability, the workers and the tests all
 * come from these definitions (registry.ts).
 */
export interface ChannelDefinition<P extends ChannelProvider = ChannelProvider> {
  name: Channel;
  queue: string;
  preference: PreferenceFlag;
  /** The user's address on this channel, or null when they have none (the send fails at accept). */
  address(user: UserProfile): string | null;
  /** Whole sends per second to each provider (the channel's *_RATE_PER_SECOND); 0 = unlimited. */
  rate(config: Config): number;
  /** Consecutive failures that open a provider's breaker, when not CIRCUIT_BREAKER_FAILURE_THRESHOLD. */
  breakerFailureThreshold?(config: Config): number;
  /** Its providers, in order of preference; none: the channel is not configured here. */
  providers(context: ChannelContext): P[];
  /** Sends one message through one of its providers, or throws a DeliveryError. */
  send(provider: P, message: Outgoing, context: ChannelContext): Promise<SendOutcome>;
}

/** Declares a channel; `P` ties its providers to its send. */
export function defineChannel<P extends ChannelProvider>(definition: ChannelDefinition<P>): ChannelDefinition {
  return definition;
}
