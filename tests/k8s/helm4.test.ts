// The charts must work with Helm 3 and Helm 4. Helm 4 lints every chart strictly and renders
// exactly what Helm 3 renders (only the randomly generated Secret values may differ), so every
// check the suite makes on Helm 3's output holds for Helm 4's too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CHART, ENVIRONMENTS, HELM, helmResult, type K8sObject, REPO, SUBCHARTS, valuesFile } from './lib/render.ts';

const HELM4 = process.env['HELM4_BIN'] ?? join(REPO, '.tools', 'bin', 'helm4');

/** The manifests only: Helm 3 and 4 word their warnings differently, and on stderr. */
async function helmStdout(args: string[], binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, args, { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Rendered objects with generated secret material masked, keyed by kind/name for a readable diff. */
function comparable(text: string): Map<string, unknown> {
  const objects = new Map<string, unknown>();
  for (const doc of parseAllDocuments(text)) {
    const object = doc.toJS() as K8sObject | null;
    if (!object) continue;
    if (object.kind === 'Secret') {
      for (const field of ['data', 'stringData'] as const) {
        const values = object[field] as Record<string, string> | undefined;
        for (const key of Object.keys(values ?? {})) values![key] = '<generated>';
      }
    }
    objects.set(`${object.kind}/${object.metadata.name}`, JSON.parse(JSON.stringify(object)));
  }
  return objects;
}

test('the Helm 4 binary is Helm 4', async () => {
  const { ok, output } = await helmResult(['version', '--short'], HELM4);
  assert.ok(ok, output);
  assert.match(output, /^v4\./);
});

test('Helm 4 lints the umbrella chart and every subchart strictly, with every environment file', async () => {
  const runs = [
    ['lint', '--strict', CHART],
    ...ENVIRONMENTS.map((env) => ['lint', '--strict', CHART, '-f', valuesFile(env)]),
    ...SUBCHARTS.map((chart) => ['lint', '--strict', join(CHART, 'charts', chart)]),
  ];
  const results = await Promise.all(runs.map((args) => helmResult(args, HELM4)));
  const failures = results.flatMap((result, i) => (result.ok ? [] : [`helm4 ${runs[i]!.join(' ')}\n${result.output}`]));
  assert.deepEqual(failures, []);
});

test('Helm 4 renders what Helm 3 renders for the defaults and every environment file', async () => {
  for (const values of [[], ...ENVIRONMENTS.map((env) => ['-f', valuesFile(env)])]) {
    const args = ['template', 'afp', CHART, '--namespace', 'auditflow', ...values];
    const [three, four] = await Promise.all([helmStdout(args, HELM), helmStdout(args, HELM4)]);
    const expected = comparable(three);
    const actual = comparable(four);
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `same objects for ${values.join(' ') || 'defaults'}`);
    for (const [key, object] of expected) assert.deepEqual(actual.get(key), object, `${key} with ${values.join(' ') || 'defaults'}`);
  }
});
