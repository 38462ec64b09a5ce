export {
  EXCHANGE,
  FAILED_QUEUE,
  MAX_PRIORITY,
  PRIORITY_VALUES,
  delayQueueName,
  declareTopology,
  routingKeyFor,
  priorityQueueName,
  consumedQueues,
} from "./topology";
export type { WorkQueue, QueueType } from "./topology";
export { AmqpConnection } from "./connection";
export type { AmqpLogger } from "./connection";
export { ConfirmPublisher, BrokerUnavailableError } from "./publisher";
export type { OutgoingMessage, PublishObserver } from "./publisher";
export { QueueConsumer } from "./consumer";
export { Republisher, bodyOf } from "./republish";
export type { Failure } from "./republish";
export type { Settlement, MessageHandler, ConsumerOptions } from "./consumer";
export { HEADERS, deliveryMessage, parseMessage, headerString, deliveryOutgoing } from "./message";
export type { MessageDefinition, DeliveryMessage, DeliveryEnvelope, ParseResult } from "./message";
export { insertOutbox, releaseToOutbox, OutboxPublisher, OutboxRelay } from "./outbox";
export type { StoredOutgoing, OutboxRelayOptions, AlongsideWrites } from "./outbox";
export type { ConsumeMessage } from "amqplib";
