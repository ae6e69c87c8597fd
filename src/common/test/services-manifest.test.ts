// One list of services (src/common/src/services.ts): services.json is generated from it, and the
// files that cannot import it (workspaces, the bake file, the image workflow) are checked against it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderServicesJson, SERVICES_JSON } from '../../../scripts/generate-services.ts';
import { SERVICE_NAMES } from '../src/platform.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

test('services.json is what src/common/src/services.ts generates (run scripts/generate-services.ts)', () => {
  assert.equal(readFileSync(SERVICES_JSON, 'utf8'), renderServicesJson());
  assert.deepEqual(
    (JSON.parse(readFileSync(SERVICES_JSON, 'utf8')) as { services: { name: string }[] }).services.map((s) => s.name),
    [...SERVICE_NAMES],
  );
});

test('every service is a workspace, and every service workspace is in the manifest', () => {
  const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
  for (const name of SERVICE_NAMES) assert.ok(workspaces.includes(`src/${name}`), `src/${name} is not a workspace`);
  const others = workspaces.filter((dir) => !SERVICE_NAMES.some((name) => dir === `src/${name}`));
  assert.deepEqual(others, ['src/common', 'src/auditflow'], 'a workspace that is neither a service nor common/CLI');
});

test('docker-bake.hcl builds exactly the manifest, in its order', () => {
  const bake = read('docker-bake.hcl');
  const lists = [...bake.matchAll(/(?:targets|svc)\s*=\s*\[([^\]]*)\]/g)].map((m) => [...m[1]!.matchAll(/"([^"]+)"/g)].map((x) => x[1]));
  assert.equal(lists.length, 2, 'the default group and the matrix');
  for (const list of lists) assert.deepEqual(list, [...SERVICE_NAMES]);
});

test('the image workflow has a paths filter per service and nothing else builds an image', () => {
  const workflow = read('.github/workflows/images.yml');
  for (const name of SERVICE_NAMES) {
    assert.match(workflow, new RegExp(`\\n\\s+${name}:\\n\\s+- \\*shared\\n\\s+- src/${name}/\\*\\*`), `${name}: no paths filter`);
  }
  const filters = [...workflow.matchAll(/\n\s+([a-z-]+):\n\s+- \*shared\n/g)].map((m) => m[1]);
  assert.deepEqual(filters, [...SERVICE_NAMES]);
  assert.match(read('scripts/select-services.sh'), /jq -r '\.services\[\]\.name' .*services\.json/);
});
