import { readFile } from 'node:fs/promises';
import { isPasswordHash } from './passwords.ts';

/** Names of people as they are recorded on acknowledgements and silences. */
export const PERSON_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._@+-]{0,127}$/u;

export class UsersFileError extends Error {}

/**
 * The local users: one `name:hash` line each (`auditflow hash-password`
 * makes the hash), `#` comments and blank lines ignored, as htpasswd files
 * are. Mounted from a Secret in the cluster. Every bad line is named.
 */
export function parseUsers(text: string): Map<string, string> {
  const users = new Map<string, string>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const hash = colon < 0 ? '' : line.slice(colon + 1);
    if (!PERSON_NAME.test(name)) problems.push(`line ${index + 1}: "${name.slice(0, 40)}" is not a user name (letters, digits, . _ @ + -)`);
    else if (!isPasswordHash(hash)) problems.push(`line ${index + 1}: the hash of ${name} is not an scrypt hash from \`auditflow hash-password\``);
    else if (users.has(name)) problems.push(`line ${index + 1}: ${name} appears twice`);
    else users.set(name, hash);
  });
  if (problems.length > 0) throw new UsersFileError(problems.join('; '));
  if (users.size === 0) throw new UsersFileError('no user is defined');
  return users;
}

export async function readUsersFile(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsersFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseUsers(text);
}
