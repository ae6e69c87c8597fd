import assert from 'node:assert/strict';
import { type ClientRequest, get, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { makeAlert, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
}

/** A minimal EventSource: collects parsed events and comment lines from a real socket. */
async function openStream(url: string, headers: Record<string, string> = {}): Promise<{ events: SseEvent[]; comments: string[]; response: IncomingMessage; close(): void }> {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let request: ClientRequest | undefined;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request = get(url, { headers }, resolve);
    request.on('error', reject);
  });
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: SseEvent = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) comments.push(line.slice(1).trim());
        else {
          const [field, ...rest] = line.split(': ');
          if (field === 'id' || field === 'event' || field === 'data') event[field] = rest.join(': ');
        }
      }
      if (event.event) events.push(event);
      end = buffer.indexOf('\n\n');
    }
  });
  return { events, comments, response, close: () => request?.destroy() };
}

describe('GET /alerts/stream (SSE over a real socket)', () => {
  let db: TestDatabase;
  let primary: Harness;
  let replica: Harness;

  before(async () => {
    db = await postgresDatabase();
    primary = await startHarness(db, { sseKeepAliveMs: 100 });
    replica = await startHarness(db);
  });
  after(async () => {
    await primary.stop();
    await replica.stop();
    await db.drop();
  });

  test('a new alert and a status change made on another replica both arrive, with increasing ids', async () => {
    const stream = await openStream(`${primary.handle.urls.http}/alerts/stream`);
    try {
      assert.equal(stream.response.statusCode, 200);
      assert.match(String(stream.response.headers['content-type']), /^text\/event-stream/);
      await waitFor(() => (stream.comments.includes('connected') ? true : undefined), 5000, 'opening comment');

      const alert = makeAlert();
      await primary.broker.publish(primary.queue, { body: alert, messageId: alert.alert_id });
      const created = await waitFor(
        () => stream.events.find((e) => e.event === 'alert.created' && JSON.parse(e.data!).alert_id === alert.alert_id),
        10_000,
        'alert.created',
      );
      assert.equal(JSON.parse(created.data!).status, 'open');

      const patch = await replica.handle.app.inject({
        method: 'PATCH',
        url: `/alerts/${alert.alert_id}`,
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: { status: 'resolved', note: 'false positive' },
      });
      assert.equal(patch.statusCode, 200);
      const updated = await waitFor(
        () => stream.events.find((e) => e.event === 'alert.updated' && JSON.parse(e.data!).alert_id === alert.alert_id),
        10_000,
        'alert.updated',
      );
      assert.equal(JSON.parse(updated.data!).status, 'resolved');
      assert.ok(BigInt(updated.id!) > BigInt(created.id!), 'ids increase');

      await waitFor(() => (stream.comments.includes('keep-alive') ? true : undefined), 5000, 'keep-alive comment');
      const metrics = (await primary.handle.app.inject({ url: '/metrics' })).body;
      assert.match(metrics, /notification_sse_clients\{[^}]*\} 1/);
    } finally {
      stream.close();
    }
    await waitFor(
      async () =>
        /notification_sse_clients\{[^}]*\} 0/.test((await primary.handle.app.inject({ url: '/metrics' })).body) ? true : undefined,
      5000,
      'client cleaned up',
    );
  });

  test('Last-Event-ID is not honoured: a reconnect gets only events after it connects', async () => {
    const earlier = makeAlert();
    await primary.broker.publish(primary.queue, { body: earlier, messageId: earlier.alert_id });
    await waitFor(
      async () => ((await primary.handle.app.inject({ url: `/alerts/${earlier.alert_id}` })).statusCode === 200 ? true : undefined),
      10_000,
      'the earlier alert stored',
    );
    const stream = await openStream(`${primary.handle.urls.http}/alerts/stream`, { 'last-event-id': '1' });
    try {
      await waitFor(() => (stream.comments.includes('connected') ? true : undefined), 5000, 'opening comment');
      const later = makeAlert();
      await primary.broker.publish(primary.queue, { body: later, messageId: later.alert_id });
      await waitFor(
        () => stream.events.find((e) => JSON.parse(e.data!).alert_id === later.alert_id),
        10_000,
        'the later alert',
      );
      assert.equal(stream.events.filter((e) => JSON.parse(e.data!).alert_id === earlier.alert_id).length, 0);
      assert.equal(stream.response.headers['cache-control'], 'no-store, no-transform');
    } finally {
      stream.close();
    }
  });
});
