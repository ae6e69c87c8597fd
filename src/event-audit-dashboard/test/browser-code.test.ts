import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

// The browser modules are plain JavaScript with JSDoc types; the root tsconfig
// does not cover them, so this checks them strictly against the DOM library.
test('the browser JavaScript type-checks (checkJs, strict)', () => {
  const result = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(here, '../assets/tsconfig.json')], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
});
