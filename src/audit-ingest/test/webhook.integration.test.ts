import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../common/test/support.ts';
import { cleanup, QueueCollector, type RunningAnalysis, startTestAnalysis, testNames } from '../../audit-log-analysis/test/integration-support.ts';
import { auditEventList } from './samples.ts';
import { type RunningIngest, signatures, startTestIngest } from './support.ts';
import { makeTlsFixture, type TlsFixture } from './tls-fixture.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** POSTs like the API server's batch webhook backend: HTTPS, JSON EventList, kubeconfig credentials. */
function post(port: number, body: string, options: { ca: Buffer; cert?: Buffer; key?: Buffer; token?: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/k8s/audit',
        method: 'POST',
        ca: options.ca,
        ...(options.cert ? { cert: options.cert, key: options.key } : {}),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, */*',
          'user-agent': 'kube-apiserver-admission',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the API server audit webhook over HTTPS', () => {
  const names = testNames('ingest-webhook');
  const token = 'webhook-token-0123456789abcdef';
  let tls: TlsFixture;
  let analysis: RunningAnalysis;
  let ingest: RunningIngest;
  let alerts: QueueCollector;
  const byCertificate = auditEventList(new Date(), 'erin');
  const byToken = auditEventList(new Date(), 'frank');
  const answers: Record<string, Answer> = {};

  before(async () => {
    tls = await makeTlsFixture();
    analysis = await startTestAnalysis(names);
    ingest = await startTestIngest(names, {
      INGEST_AUTH: 'required',
      INGEST_TOKENS: token,
      INGEST_TLS_CERT_FILE: tls.serverCertFile,
      INGEST_TLS_KEY_FILE: tls.serverKeyFile,
      INGEST_TLS_CLIENT_CA_FILE: tls.caFile,
    });
    alerts = new QueueCollector(names.alertQueue);
    const port = ingest.handle.httpPort;
    answers['certificate'] = await post(port, JSON.stringify(byCertificate.body), { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey });
    // The webhook retries a batch it got no answer for: the same events again change nothing.
    answers['retry'] = await post(port, JSON.stringify(byCertificate.body), { ca: tls.ca, cert: tls.clientCert, key: tls.clientKey });
    answers['token'] = await post(port, JSON.stringify(byToken.body), { ca: tls.ca, token });
    answers['none'] = await post(port, JSON.stringify(byToken.body), { ca: tls.ca });
    answers['wrong token'] = await post(port, JSON.stringify(byToken.body), { ca: tls.ca, token: 'not-the-token-0123456789' });
    answers['stranger'] = await post(port, JSON.stringify(byToken.body), { ca: tls.ca, cert: tls.strangerCert, key: tls.strangerKey });
    // Only the per-user alerts differ; the binding, anonymous and pod alerts group by resource, address or pod.
    const expected = new Set([...byCertificate.expected, ...byToken.expected]).size;
    await waitFor(() => signatures(alerts.alerts).length >= expected || undefined, 30_000, 'the expected alerts');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  });

  after(async () => {
    await alerts.close();
    await ingest.stop();
    await analysis.stop();
    await cleanup(names);
    await tls.remove();
  });

  test('a client certificate signed by the configured CA is accepted', () => {
    assert.equal(answers['certificate']!.status, 200);
    assert.deepEqual(answers['certificate']!.body, { published: 13, ignored: 1, dead_lettered: 0, errors: [] });
    assert.equal(answers['retry']!.status, 200);
  });

  test('a bearer token is accepted', () => {
    assert.equal(answers['token']!.status, 200);
  });

  for (const name of ['none', 'wrong token', 'stranger']) {
    test(`${name}: 401 problem+json`, () => {
      assert.equal(answers[name]!.status, 401);
      assert.match(String(answers[name]!.headers['content-type']), /^application\/problem\+json/);
      assert.equal(answers[name]!.body['code'], 'AF_UNAUTHORIZED');
    });
  }

  test('the events raise exactly their alerts, once despite the retry', () => {
    const raised = signatures(alerts.alerts);
    const expected = [...new Set([...byCertificate.expected, ...byToken.expected])].sort();
    assert.deepEqual(raised, expected);
    const exec = alerts.alerts.filter((alert) => alert.analysis_rule?.rule_id === 'ANLY-SRC-010' && alert.raw_event_data['user_id'] === 'erin');
    assert.equal(new Set(exec.map((alert) => alert.alert_id)).size, 1);
    assert.ok(exec.every((alert) => alert.count === 1));
  });
});
