// The message broker: the port services code against, its AMQP and in-memory adapters, and the
// delivery policy (retry, dead-letter). Import as @auditflow/common/broker.
export { AmqpBroker } from './amqp-broker.ts';
export type { AmqpBrokerOptions } from './amqp-broker.ts';
export { DeliveryCounter } from './delivery-count.ts';
export type { DeliveryFacts, FoundQueueType } from './delivery-count.ts';
export { deadLetterHeaders, deliver, deliverBatch } from './delivery-policy.ts';
export type { DeadLetter, Outcome, PolicyHooks } from './delivery-policy.ts';
export { MemoryBroker } from './memory-broker.ts';
export { DEAD_LETTER_HEADERS, JSON_CONTENT_TYPE, deadLetterQueueOf, encodeBody } from './port.ts';
export type { BatchConsumeOptions, BatchFailures, BatchHandler, BrokerKind, ConsumeOptions, ConsumerHandle, ConsumerStats, InboundMessage, MessageBroker, MessageHandler, OutboundMessage } from './port.ts';
export { findOrDeclareQueue } from './queue-declaration.ts';
export type { ConfiguredQueueType, FoundQueue, QueueParams } from './queue-declaration.ts';
