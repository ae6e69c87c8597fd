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
