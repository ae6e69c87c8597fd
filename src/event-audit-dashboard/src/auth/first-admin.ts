import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from './passwords.ts';

export const FIRST_ADMIN = 'admin';

/**
 * The all-in-one's safe default: on the first start, a users file in the
 * data directory with one `admin` whose random password is returned to be
 * printed once (only its hash is stored). Later starts reuse the file;
 * deleting it makes a new password on the next start.
 */
export async function ensureFirstAdmin(dataDir: string): Promise<{ path: string; password: string | undefined }> {
  const path = join(dataDir, 'dashboard-users');
  await mkdir(dataDir, { recursive: true });
  const password = randomBytes(15).toString('base64url');
  const line = `# event-audit-dashboard users (auditflow hash-password); created on first start\n${FIRST_ADMIN}:${await hashPassword(password)}\n`;
  try {
    await writeFile(path, line, { mode: 0o600, flag: 'wx' });
    return { path, password };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { path, password: undefined };
    throw error;
  }
}
