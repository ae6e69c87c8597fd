import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileMatcher } from '../src/delivery/matchers.ts';
import { postgresDatabase, type TestDatabase } from './helpers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

const CHILD = fileURLToPath(new URL('./fixtures/redos-silence.ts', import.meta.url));
/** Generous: the run takes a second or two; a backtracking engine needs hours for 2^34 steps. */
const CHILD_TIMEOUT_MS = 120_000;

describe('silence and route regexes run in linear time (RE2)', () => {
  test('a (a+)+$ silence against a hostile host: GET /alerts answers, and matches as Alertmanager would', async () => {
    const child = spawn(process.execPath, ['--conditions=source', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)));
    clearTimeout(timer);
    assert.equal(code, 0, `the child did not finish within ${CHILD_TIMEOUT_MS} ms (or failed): ${out}`);
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { status: number; silenced: Record<string, boolean> };
    assert.equal(result.status, 200);
    assert.deepEqual(result.silenced, { hostile: false, silenced: true, normal: false });
  });

  test('matchers are anchored and keep their meaning on RE2', () => {
    const host = (value: string) => compileMatcher({ name: 'host', value, isRegex: true, isEqual: true });
    assert.equal(host('web-\\d+').matches({ host: 'web-12' }), true);
    assert.equal(host('web-\\d+').matches({ host: 'xweb-12' }), false);
    assert.equal(host('a|ab').matches({ host: 'ab' }), true);
    assert.equal(host('(?i)WEB.*').matches({ host: 'web-1' }), true);
    assert.equal(compileMatcher({ name: 'host', value: 'db.*', isRegex: true, isEqual: false }).matches({}), true);
  });

  describe('patterns RE2 refuses are refused at input', () => {
    let db: TestDatabase;
    let harness: Harness;
    before(async () => {
      db = await postgresDatabase();
      harness = await startHarness(db);
    });
    after(async () => {
      await harness.stop();
      await db.drop();
    });

    for (const pattern of ['a(?=b)', '(a)\\1', '[']) {
      test(`POST /silences with ${pattern} is a 400 problem naming matchers[1].value`, async () => {
        const response = await harness.handle.app.inject({
          method: 'POST',
          url: '/silences',
          headers: { authorization: `Bearer ${TOKEN}` },
          payload: {
            matchers: [
              { name: 'rule_id', value: 'ANLY-SEC-001', isRegex: false, isEqual: true },
              { name: 'host', value: pattern, isRegex: true, isEqual: true },
            ],
            comment: 'bad pattern',
            ends_at: new Date(Date.now() + 3_600_000).toISOString(),
          },
        });
        assert.equal(response.statusCode, 400, response.body);
        assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
        const body = response.json();
        assert.equal(body.code, 'AF_INVALID_MATCHER');
        assert.equal(body.errors[0].path, '/matchers/1/value');
        assert.match(body.detail, /matchers\[1\]\.value is not a valid RE2 regular expression/);
      });
    }
  });
});
