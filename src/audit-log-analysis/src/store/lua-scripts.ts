import { LUA_SCRIPTS } from './lua-bundle.generated.ts';

/** A Lua script and the number of keys it takes (the number in its file name). */
export interface LuaScript {
  name: string;
  numberOfKeys: number;
  lua: string;
}

export type LuaScriptFile = keyof typeof LUA_SCRIPTS;

/**
 * A script of src/store/lua, with its `--- @include` lines resolved, as
 * bundled into the build (scripts/bundle-lua.mjs): nothing is read from
 * disk at run time.
 */
export function loadLuaScript(fileName: LuaScriptFile): LuaScript {
  return LUA_SCRIPTS[fileName];
}

/**
 * The scope-batch script: the single-event scripts are included in it as
 * functions (their KEYS and ARGV become parameters), so the batch runs the
 * very same code, and gives the same answers, as one call per event.
 */
export function scopeBatchScript(): LuaScript {
  return loadLuaScript('scope-batch-9.lua');
}

/** The first_seen script, with first-seen-drop-2.lua included as its drop function. */
export function firstSeenBatchScript(): LuaScript {
  return loadLuaScript('first-seen-batch-2.lua');
}
