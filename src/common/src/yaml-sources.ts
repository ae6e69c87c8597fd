import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The text of one YAML file and the name its problems are reported under. */
export interface YamlSource {
  text: string;
  fileName: string;
}

/**
 * The file at `path`, or every `*.yml`/`*.yaml` file of the directory in name order, hidden files
 * and a mounted ConfigMap's `..data` links skipped: how RULES_FILE and EXCEPTIONS_FILE are read.
 * Throws what the file system throws; the caller names the file in its own error.
 */
export function readYamlSources(path: string): YamlSource[] {
  if (!statSync(path).isDirectory()) return [{ text: readFileSync(path, 'utf8'), fileName: path }];
  return readdirSync(path)
    .filter((name) => !name.startsWith('.') && /\.ya?ml$/.test(name))
    .sort()
    .map((name) => ({ text: readFileSync(join(path, name), 'utf8'), fileName: join(path, name) }));
}
