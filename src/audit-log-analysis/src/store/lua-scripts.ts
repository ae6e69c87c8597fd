import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A Lua script file and the number of keys it takes (the number in its file name). */
export interface LuaScript {
  name: string;
  numberOfKeys: number;
  lua: string;
}

/*
 * The scripts live beside this module in src/store/lua. A TypeScript build
 * does not copy them, so from dist/store the source directory is used.
 */
const CANDIDATE_DIRS = ['./lua/', '../../src/store/lua/'];

function luaDirectory(): string {
  for (const candidate of CANDIDATE_DIRS) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error(`Lua scripts not found beside ${fileURLToPath(import.meta.url)}`);
}

export function loadLuaScript(fileName: string): LuaScript {
  const match = /^(.+)-(\d+)\.lua$/.exec(fileName);
  if (!match) throw new Error(`Lua script name ${fileName} must end with -<key count>.lua`);
  return { name: match[1]!, numberOfKeys: Number(match[2]), lua: readFileSync(`${luaDirectory()}${fileName}`, 'utf8') };
}

/** Each single-event script, wrapped as a local function the batch script calls per event. */
const BATCH_PARTS = [
  ['count_window', 'count-window-3.lua'],
  ['chain_window', 'chain-window-6.lua'],
  ['episode_fold', 'episode-fold-3.lua'],
] as const;

/**
 * The scope-batch script with the bodies of the single-event scripts prepended
 * as functions (their KEYS and ARGV become parameters), so the batch runs the
 * very same code, and gives the same answers, as one call per event.
 */
export function scopeBatchScript(): LuaScript {
  const batch = loadLuaScript('scope-batch-9.lua');
  const parts = BATCH_PARTS.map(([fn, file]) => `local function ${fn}(KEYS, ARGV)\n${loadLuaScript(file).lua}\nend\n`);
  return { ...batch, lua: `${parts.join('')}${batch.lua}` };
}
