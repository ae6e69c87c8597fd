/**
 * Prints the users-file line of a dashboard user: `name:scrypt$…`. The
 * password is read from standard input (never an argument, which `ps` and
 * shell history would show):
 *   printf '%s' "$PASSWORD" | npm run -s hash-password -- alice
 *   (in the image: node dist/hash-password.js alice)
 */
import { text } from 'node:stream/consumers';
import { hashPassword } from './auth/passwords.ts';
import { PERSON_NAME } from './auth/users-file.ts';

const name = process.argv[2] ?? '';
if (!PERSON_NAME.test(name)) {
  process.stderr.write('usage: printf %s "$PASSWORD" | hash-password <user name>  (letters, digits, . _ @ + -)\n');
  process.exit(2);
}
const password = (await text(process.stdin)).replace(/\r?\n$/, '');
try {
  process.stdout.write(`${name}:${await hashPassword(password)}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
