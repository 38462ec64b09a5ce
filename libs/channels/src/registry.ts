import type { Channel } from "@herald/db";
import type { UserProfile } from "@herald/users";
import type { ChannelDefinition } from "./definition";
import { email } from "./email";
import { push } from "./push";
import { sms, whatsapp } from "./text";
import { slack, webhook } from "./webhook";

/** Every channel. Adding one is its file and one line here. */
export const CHANNEL_DEFINITIONS: readonly ChannelDefinition[] = [email, push, sms, whatsapp, webhook, slack];

const byName = new Map(CHANNEL_DEFINITIONS.map((d) => [d.name, d]));

export function channelDefinition(name: Channel): ChannelDefinition {
  const definition = byName.get(name);
  if (!definition) throw new Error(`no channel ${name}`);
  return definition;
}

/** The work queues and the routing keys (channel names) bound to each, for the topology. */
export function workQueues(): { queue: string; routingKeys: Channel[] }[] {
  const queues = new Map<string, Channel[]>();
  for (const d of CHANNEL_DEFINITIONS) queues.set(d.queue, [...(queues.get(d.queue) ?? []), d.name]);
  return [...queues].map(([queue, routingKeys]) => ({ queue, routingKeys }));
}

/** The work queue of a channel. */
export function queueOf(name: Channel): string {
  return channelDefinition(name).queue;
}

/** Whether the user's preferences let this channel reach them. */
export function channelEnabled(user: UserProfile, name: Channel): boolean {
  return user.preferences[channelDefinition(name).preference] === true;
}

/** Whether the user has somewhere to receive this channel at all. */
export function channelReachable(user: UserProfile, name: Channel): boolean {
  return channelDefinition(name).address(user) !== null;
}
