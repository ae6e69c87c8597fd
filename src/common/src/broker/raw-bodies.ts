import { Channel } from 'rabbitmq-client/lib/Channel.js';

/**
 * rabbitmq-client decodes an incoming body itself when its content type is
 * exactly `text/plain` (to a string: invalid UTF-8 becomes U+FFFD) or
 * `application/json` (to a value: a JSON string body becomes the text inside
 * it, numbers are rounded to doubles). After that the consumer can no longer
 * see what was on the wire, and every consumer here decodes bytes by one rule
 * (decodeJsonObject). The decision is made on the header frame
 * (Channel#_onHeader, before Channel#_onBody assembles the body), so hiding
 * those two content types there keeps every body a Buffer. Nothing here reads
 * the content type: the bytes decide (docs/api.md, "Decoding a message").
 */
export const DECODED_CONTENT_TYPES = new Set(['text/plain', 'application/json']);

/**
 * The rabbitmq-client release this patch was checked against: it has no
 * supported option to leave bodies undecoded, so the patch stays confined to
 * the AMQP adapter (AmqpBroker, the only caller) and
 * src/common/test/raw-bodies.pinned.test.ts fails on any other release until
 * Channel#_onHeader/_onBody are checked again (and the wire test in
 * amqp-wire.test.ts shows the bytes still arrive unchanged).
 */
export const RABBITMQ_CLIENT_VERIFIED = '5.0.8';

interface HeaderFrame {
  fields: { contentType?: string | undefined };
}

type OnHeader = (this: unknown, frame: HeaderFrame) => void;

let installed = false;

/** Idempotent; throws at start-up, not per message, if the client no longer works this way. */
export function keepRawBodies(): void {
  if (installed) return;
  const prototype = Channel.prototype as unknown as { _onHeader?: OnHeader };
  const original = prototype._onHeader;
  if (typeof original !== 'function') {
    throw new Error('rabbitmq-client has no Channel#_onHeader any more: message bodies would be decoded by the client');
  }
  prototype._onHeader = function onHeader(this: unknown, frame: HeaderFrame): void {
    const { fields } = frame;
    if (fields.contentType !== undefined && DECODED_CONTENT_TYPES.has(fields.contentType)) {
      fields.contentType = undefined;
    }
    original.call(this, frame);
  };
  installed = true;
}

