export { EVENT_TYPES, SUBSCRIBABLE, eventSourceColumns, statusEventsInsert } from "./events";
export type { EventType, StatusEvent } from "./events";
export { WebhookEndpoints } from "./endpoints";
export type { EndpointView, CreatedEndpoint } from "./endpoints";
export { StatusWebhookDispatcher, eventMessageId } from "./dispatcher";
export type { DispatcherOptions } from "./dispatcher";
export { createEndpointSchema, updateEndpointSchema, endpointIdSchema, listEndpointsSchema } from "./schemas";
export type { CreateEndpointInput, UpdateEndpointInput } from "./schemas";
