import { channelDefinition, type ChannelContext, type ChannelProvider } from "@herald/channels";
import type { Channel } from "@herald/db";
import { providerParts, type ChannelHandler } from "./handler";

/**
 * The handlers of these channels from their definitions: one per provider, in each channel's
 * order of preference. A channel without a provider here (not configured in production) has none.
 */
export function handlersFor(channels: readonly Channel[], context: ChannelContext): ChannelHandler[] {
  return channels.flatMap((name) => {
    const definition = channelDefinition(name);
    const threshold = definition.breakerFailureThreshold?.(context.config);
    return definition.providers(context).map(
      (provider: ChannelProvider): ChannelHandler => ({
        channel: name,
        ...providerParts(provider),
        ...(threshold !== undefined ? { breakerFailureThreshold: threshold } : {}),
        budget: { perSecond: definition.rate(context.config) },
        send: ({ delivery, user, rendered, logger }) =>
          definition.send(
            provider,
            { delivery: { id: delivery.id, requestId: delivery.requestId, correlationId: delivery.correlationId, priority: delivery.priority, attempt: delivery.attempt }, user, rendered, logger },
            context,
          ),
      }),
    );
  });
}
