import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes of the dashboard's local users: scrypt (RFC 7914) from
 * node:crypto, stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url),
 * so the cost can be raised later without breaking existing lines.
 * N=2^15, r=8 costs 32 MiB and some 100 ms on a Raspberry Pi 5 per check:
 * slow for a guesser, fine for a person logging in.
 */
const LOG2_N = 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const FORMAT = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

function derive(password: string, salt: Buffer, log2n: number, r: number, p: number, bytes: number): Promise<Buffer> {
  const N = 2 ** log2n;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, bytes, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  if (password.length < 8) throw new Error('a password has at least 8 characters');
  const salt = randomBytes(16);
  const key = await derive(password, salt, LOG2_N, R, P, KEY_BYTES);
  return `scrypt$${LOG2_N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `hash` is a line this module can verify (checked when the users file is read). */
export function isPasswordHash(hash: string): boolean {
  const match = FORMAT.exec(hash);
  if (!match) return false;
  const [log2n, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return log2n >= 14 && log2n <= 20 && r >= 8 && r <= 32 && p >= 1 && p <= 16;
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = FORMAT.exec(hash);
  if (!match || !isPasswordHash(hash)) return false;
  const expected = Buffer.from(match[5]!, 'base64url');
  const key = await derive(password, Buffer.from(match[4]!, 'base64url'), Number(match[1]), Number(match[2]), Number(match[3]), expected.length);
  return timingSafeEqual(key, expected);
}

/** Verifies against a fixed hash when the user does not exist, so timing does not tell which names exist. */
let dummy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword('not-a-real-password');
  await verifyPassword(password, await dummy);
}
