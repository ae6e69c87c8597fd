import { constants } from 'node:fs';
import { access, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@auditflow/common';
import type { ExceptionEntry } from '@auditflow/common/contracts';
import { renderExceptionsFile } from '@auditflow/common/exceptions-file';

/**
 * Keeps EXCEPTIONS_FILE equal to the stored exceptions where this service may write it (the
 * all-in-one, `npm start`: the analysis in the same process reads the same file). Each write goes
 * to a temporary file in the same directory and is renamed over the file, so the analysis never
 * reads half a file. In a cluster the file is a read-only ConfigMap: nothing is written and the
 * operator commits GET /exceptions.yaml to Git instead.
 */
export class ExceptionsFileWriter {
  readonly path: string;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, logger: Logger) {
    this.path = path;
    this.#logger = logger;
  }

  /** Whether the file can be written (an existing file, or a new one in its directory); never a directory. */
  async writable(): Promise<boolean> {
    try {
      if ((await stat(this.path).catch(() => undefined))?.isDirectory()) return false;
      await access(dirname(this.path), constants.W_OK);
      await access(this.path, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      return true;
    } catch {
      return false;
    }
  }

  async exists(): Promise<boolean> {
    return access(this.path).then(
      () => true,
      () => false,
    );
  }

  /** Writes the whole file; concurrent calls are applied in order, the last one wins. */
  write(entries: readonly ExceptionEntry[]): Promise<void> {
    const text = renderExceptionsFile(entries);
    const next = this.#queue.then(async () => {
      const temporary = join(dirname(this.path), `.${basename(this.path)}.${process.pid}.tmp`);
      try {
        await writeFile(temporary, text, { mode: 0o644 });
        await rename(temporary, this.path);
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
      this.#logger.info({ exceptions_file: this.path, exceptions: entries.length }, 'exceptions file written');
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
