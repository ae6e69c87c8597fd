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
