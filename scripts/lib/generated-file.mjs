// The one way a generator writes what it generates or, called with --check, proves the committed
// copy current: every generator reports a stale file with the same line, naming the command that
// regenerates it, and exits 1. Its own header says what it generates from what.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Whether the generator was asked to check (--check) rather than write. */
export function checking(argv = process.argv) {
  return argv.includes('--check');
}

/** A path as the reader knows it: relative to the repository when inside it. */
function shown(path) {
  const inRepo = relative(repoRoot, path);
  return inRepo.startsWith('..') || isAbsolute(inRepo) ? path : inRepo;
}

function current(path, content) {
  if (!existsSync(path)) return content === null;
  if (content === null) return false;
  const onDisk = readFileSync(path);
  return typeof content === 'string' ? onDisk.toString('utf8') === content : onDisk.equals(content);
}

/** Prints "<file> is out of date: run <command>" for each path and exits 1 when there is any. */
export function failIfOutOfDate(paths, command) {
  for (const path of paths) console.error(`${shown(path)} is out of date: run ${command}`);
  if (paths.length > 0) process.exit(1);
}

/**
 * files: [{ path (absolute), content (string, Buffer, or null: the file must not exist) }].
 * With --check, reports the out-of-date ones (failIfOutOfDate) and prints nothing when all are
 * current; otherwise writes (or removes) the ones that differ. Returns the paths that differed.
 */
export function writeOrCheck(files, { command, check = checking() }) {
  const changed = files.filter(({ path, content }) => !current(path, content));
  if (check) {
    failIfOutOfDate(
      changed.map(({ path }) => path),
      command,
    );
    return [];
  }
  for (const { path, content } of changed) {
    if (content === null) {
      rmSync(path);
      console.log(`removed ${shown(path)}`);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      console.log(`wrote ${shown(path)}`);
    }
  }
  if (changed.length === 0) console.log(files.length === 1 ? `${shown(files[0].path)} is up to date` : 'every generated file is up to date');
  return changed.map(({ path }) => path);
}
