import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
// @ts-expect-error: a build script in plain JavaScript, without type declarations
import { resolveIncludes } from '../scripts/bundle-lua.mjs';
import { LUA_SCRIPTS } from '../src/store/lua-bundle.generated.ts';

const script = fileURLToPath(new URL('../scripts/bundle-lua.mjs', import.meta.url));

test('the bundled Lua scripts are the .lua sources with their @include lines resolved (regenerated, compared)', () => {
  execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' });
  const batch = LUA_SCRIPTS['scope-batch-9.lua'].lua;
  assert.doesNotMatch(batch, /^--- @include/m);
  for (const fragment of ['count-window-3.lua', 'chain-window-6.lua', 'episode-fold-3.lua'] as const) {
    assert.ok(batch.includes(LUA_SCRIPTS[fragment].lua.trimEnd()), `${fragment} is inlined whole`);
  }
  assert.equal(LUA_SCRIPTS['scope-batch-9.lua'].numberOfKeys, 9);
});

test('includes resolve recursively; a cycle or a missing script is a build error naming it', () => {
  const files: Record<string, string> = {
    'a.lua': 'local x = 1\n--- @include "b.lua"\nreturn x',
    'b.lua': '--- @include "c.lua"\n',
    'c.lua': 'x = x + 1\n',
    'loop.lua': '--- @include "loop.lua"',
    'missing.lua': '--- @include "nope.lua"',
  };
  const read = (name: string) => {
    if (!(name in files)) throw Object.assign(new Error(name), { code: 'ENOENT' });
    return files[name]!;
  };
  assert.equal(resolveIncludes('a.lua', read), 'local x = 1\nx = x + 1\nreturn x');
  assert.throws(() => resolveIncludes('loop.lua', read), /cycle: loop.lua -> loop.lua/);
  assert.throws(() => resolveIncludes('missing.lua', read), /missing.lua:1: @include "nope.lua": no such script/);
});
