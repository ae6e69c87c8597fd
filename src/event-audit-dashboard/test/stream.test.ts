import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { formatSseEvent, type ServiceHandle } from '@auditflow/common';
import { silentLogger, waitFor } from '../../common/test/support.ts';
import { SseParser } from '../src/http/sse.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { AUTH_ENV, loginCookie } from './support/login.ts';
import { type FakeNotification, startFakeNotification } from './support/fake-notification.ts';

describe('SseParser', () => {
  test('parses events split at any point, with CRLF, CR and LF line ends', () => {
    const text = 'retry: 5000\r\n: comment\r\nevent: alert.created\r\nid: 7\r\ndata: {"a":1}\r\n\r\nevent: alert.updated\rdata: line1\rdata: line2\r\r';
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      assert.deepEqual(events, [
        { event: 'alert.created', id: '7', data: '{"a":1}' },
        { event: 'alert.updated', id: '7', data: 'line1\nline2' },
      ], `cut at ${cut}`);
    }
  });

  test('comments and empty blocks produce nothing; serialisation round-trips', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push(': keep-alive\n\n\n'), []);
    const event = { event: 'alert.created', id: '42', data: 'x\ny' };
    assert.deepEqual(new SseParser().push(formatSseEvent(event)), [event]);
  });
});

describe('GET /api/alerts/stream', () => {
  let backend: FakeNotification;
  let dashboard: ServiceHandle;

  before(async () => {
    backend = await startFakeNotification();
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, ...AUTH_ENV });
    dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
  });
  after(async () => {
    await dashboard.stop();
    await backend.close();
  });

  test('passes alert events through and closes the upstream stream when the browser leaves', async () => {
    const received: string[] = [];
    // A reconnecting browser sends the last id it saw; nothing replays, so it is not forwarded.
    const cookie = await loginCookie(dashboard.urls.http!);
    const req = request(`${dashboard.urls.http}/api/alerts/stream`, { headers: { cookie, accept: 'text/event-stream', 'last-event-id': '41' } });
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    assert.equal(response.headers['cache-control'], 'no-store, no-transform');
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => received.push(chunk));
    await waitFor(() => (backend.streams() === 1 ? true : undefined), 5000, 'the upstream stream');
    const upstream = backend.requests.filter((r) => r.url === '/alerts/stream').at(-1)!;
    assert.equal(upstream.headers['last-event-id'], undefined);

    const row = backend.add({ alert_name: 'streamed' });
    await waitFor(() => (received.join('').includes(String(row['alert_id'])) ? true : undefined), 5000, 'the event');
    const text = received.join('');
    assert.ok(text.startsWith('retry: 5000\n: connected\n\n'));
    assert.match(text, /id: \d+\nevent: alert\.created\ndata: \{.*"alert_name":"streamed"/s);

    req.destroy();
    await waitFor(() => (backend.streams() === 0 ? true : undefined), 5000, 'the upstream stream to close');
  });

  test('a stream outlives REQUEST_TIMEOUT_MS: the timeout bounds connecting only', async () => {
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, REQUEST_TIMEOUT_MS: '200', ...AUTH_ENV });
    const own = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    const received: string[] = [];
    const req = request(`${own.urls.http}/api/alerts/stream`, { headers: { cookie: await loginCookie(own.urls.http!) } });
    try {
      await new Promise<void>((resolve, reject) => {
        req.on('response', (response) => {
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => received.push(chunk));
          resolve();
        });
        req.on('error', reject);
        req.end();
      });
      await waitFor(() => (backend.streams() === 1 ? true : undefined), 5000, 'the upstream stream');
      // Well past the timeout, the stream must still be open and deliver.
      await new Promise((resolve) => setTimeout(resolve, 800));
      const row = backend.add({ alert_name: 'late' });
      await waitFor(() => (received.join('').includes(String(row['alert_id'])) ? true : undefined), 5000, 'the late event');
    } finally {
      req.destroy();
      await own.stop();
      await waitFor(() => (backend.streams() === 0 ? true : undefined), 5000, 'the upstream stream to close');
    }
  });

  test('stop() ends open streams', async () => {
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, ...AUTH_ENV });
    const own = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    const cookie = await loginCookie(own.urls.http!);
    const ended = new Promise<void>((resolve, reject) => {
      const req = request(`${own.urls.http}/api/alerts/stream`, { headers: { cookie } });
      req.on('response', (response) => {
        response.resume();
        response.on('end', resolve);
        response.on('close', resolve);
      });
      req.on('error', () => resolve());
      req.on('timeout', () => reject(new Error('timeout')));
      req.end();
    });
    await waitFor(() => (backend.streams() === 1 ? true : undefined), 5000, 'the upstream stream');
    await own.stop();
    await ended;
    await waitFor(() => (backend.streams() === 0 ? true : undefined), 5000, 'the upstream stream to close');
  });
});
