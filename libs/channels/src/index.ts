export { defineChannel } from "./definition";
export type { ChannelDefinition, ChannelContext, ChannelProvider, Outgoing, ProviderHooks, SendOutcome } from "./definition";
export { CHANNEL_DEFINITIONS, channelDefinition, channelEnabled, channelReachable, queueOf, workQueues } from "./registry";
export { channelContext } from "./context";
export { jsonBody } from "./webhook";
