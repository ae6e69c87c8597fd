// The one private-method patch of rabbitmq-client (raw-bodies.ts) holds only for the release it was
// checked against: an upgrade fails here until the patch is checked again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { Channel } from 'rabbitmq-client/lib/Channel.js';
import { DECODED_CONTENT_TYPES, RABBITMQ_CLIENT_VERIFIED } from '../src/broker/raw-bodies.ts';

const require = createRequire(import.meta.url);
const clientDir = dirname(require.resolve('rabbitmq-client/package.json'));

test('the installed rabbitmq-client is the release the raw-body patch was verified against', () => {
  const { version } = JSON.parse(readFileSync(join(clientDir, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version, RABBITMQ_CLIENT_VERIFIED, 'check Channel#_onHeader/_onBody of this release, then update RABBITMQ_CLIENT_VERIFIED');
});

test('the client still decides decoding on the header frame, for exactly the content types the patch hides', () => {
  const prototype = Channel.prototype as unknown as Record<string, unknown>;
  assert.equal(typeof prototype['_onHeader'], 'function');
  assert.equal(typeof prototype['_onBody'], 'function');
  const source = readFileSync(join(clientDir, 'lib', 'Channel.js'), 'utf8');
  const onBody = source.slice(source.indexOf('_onBody(bodyFrame)'), source.indexOf('const uncastMessage'));
  const decoded = [...onBody.matchAll(/headerFrame\.fields\.contentType === '([^']+)'/g)].map((m) => m[1]);
  assert.deepEqual(new Set(decoded), DECODED_CONTENT_TYPES);
});
