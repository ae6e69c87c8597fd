import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeliveryCounter } from '../src/index.ts';

const delivery = (body: string, redelivered: boolean, headers: Record<string, unknown> = {}) => ({
  body: Buffer.from(body),
  redelivered,
  headers,
});

describe('DeliveryCounter', () => {
  test('a first delivery counts 1 whatever the publisher wrote in x-delivery-count', () => {
    const counter = new DeliveryCounter();
    for (const type of ['quorum', 'classic', 'other'] as const) {
      assert.equal(counter.count(delivery('a', false, { 'x-delivery-count': 51 }), type), 1);
    }
    assert.equal(counter.tracked, 0, 'first deliveries are not tracked');
  });

  test("on a quorum queue a redelivery believes the broker's count", () => {
    const counter = new DeliveryCounter();
    assert.equal(counter.count(delivery('a', true, { 'x-delivery-count': 4 }), 'quorum'), 5);
    assert.equal(counter.count(delivery('b', true, { 'x-delivery-count': 'lots' }), 'quorum'), 2);
  });

  test('on a classic queue the header is ignored and the consumer counts the redeliveries it sees', () => {
    const counter = new DeliveryCounter();
    const message = delivery('same body', true, { 'x-delivery-count': 51 });
    assert.deepEqual([1, 2, 3].map(() => counter.count(message, 'classic')), [2, 3, 4]);
    assert.equal(counter.count(delivery('other body', true), 'classic'), 2);
    counter.settle(message);
    assert.equal(counter.count(message, 'classic'), 2, 'a settled message starts again');
  });

  test('memory stays bounded: the least recently seen message is forgotten first', () => {
    const counter = new DeliveryCounter(2);
    counter.count(delivery('a', true), 'classic');
    counter.count(delivery('b', true), 'classic');
    counter.count(delivery('a', true), 'classic');
    counter.count(delivery('c', true), 'classic');
    assert.equal(counter.tracked, 2);
    assert.equal(counter.count(delivery('a', true), 'classic'), 4);
    assert.equal(counter.count(delivery('b', true), 'classic'), 2);
  });
});
