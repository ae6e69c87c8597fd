// `helm lint --strict` for the umbrella chart and every subchart, with every values file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CHART, ENVIRONMENTS, SUBCHARTS, helmResult, subchartValues, valuesFile } from './lib/render.ts';

async function lint(chart: string, values: string[]): Promise<string | undefined> {
  const args = ['lint', '--strict', chart, ...values.flatMap((f) => ['-f', f])];
  const { ok, output } = await helmResult(args);
  return ok ? undefined : `helm ${args.join(' ')}\n${output}`;
}

test('the umbrella chart lints strictly with its defaults and every environment file', async () => {
  const failures = await Promise.all([lint(CHART, []), ...ENVIRONMENTS.map((env) => lint(CHART, [valuesFile(env)]))]);
  assert.deepEqual(failures.filter(Boolean), []);
});

test('every subchart lints strictly on its own, with its defaults and its section of every environment file', async () => {
  const failures: (string | undefined)[] = [];
  for (const chart of SUBCHARTS) {
    const dir = join(CHART, 'charts', chart);
    const sections = ENVIRONMENTS.map((env) => subchartValues(env, chart));
    try {
      failures.push(...(await Promise.all([lint(dir, []), ...sections.map((s) => lint(dir, [s.file]))])));
    } finally {
      for (const s of sections) s.cleanup();
    }
  }
  assert.deepEqual(failures.filter(Boolean), []);
});

test('lint fails on a broken value, so the checks above can fail', async () => {
  const result = await helmResult(['lint', '--strict', join(CHART, 'charts', 'redis'), '--set', 'persistence.size=lots']);
  assert.equal(result.ok, false);
  assert.match(result.output, /persistence\.size/);
});
