import type { Logger } from '@auditflow/common';
import { contentOf, ExceptionsFileError, loadExceptionsFileSync, parseExceptionFiles, readExceptionTexts } from '@auditflow/common/exceptions-file';
import type { ExceptionMetrics } from './exception-metrics.ts';
import { ExceptionSet } from './exception-set.ts';

export interface ExceptionsSourceOptions {
  path: string;
  isKnownRule: (ruleId: string) => boolean;
  /** How often the file is re-read; 0 never. */
  reloadMs: number;
  logger: Logger;
}

/**
 * EXCEPTIONS_FILE, loaded at start (invalid: the start fails) and re-read every `reloadMs`, so an
 * exception saved from the dashboard (all-in-one) or a ConfigMap updated by a Git sync takes
 * effect without a restart. Polling, not fs.watch: a ConfigMap is updated by swapping a symlink,
 * which watchers miss. A changed file that is invalid is logged and counted and the previous
 * exceptions stay in force until a valid one appears.
 */
export class ExceptionsSource {
  readonly #options: ExceptionsSourceOptions;
  #current: ExceptionSet;
  /** The texts last read, valid or not: an unchanged file is not parsed (or logged) again. */
  #seen: string;
  #metrics: ExceptionMetrics | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** Loads the file; throws ExceptionsFileError (AF_EXCEPTIONS_INVALID) when it is invalid. */
  constructor(options: ExceptionsSourceOptions) {
    this.#options = options;
    const loaded = loadExceptionsFileSync(options.path, options.isKnownRule);
    this.#current = new ExceptionSet(loaded.entries);
    this.#seen = loaded.content;
  }

  get current(): ExceptionSet {
    return this.#current;
  }

  start(metrics: ExceptionMetrics): void {
    this.#metrics = metrics;
    if (this.#options.reloadMs <= 0) return;
    this.#timer = setInterval(() => this.reload(), this.#options.reloadMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Re-reads the file now; true when a changed, valid file replaced the exceptions. */
  reload(): boolean {
    const { path, isKnownRule, logger } = this.#options;
    let content: string;
    try {
      const files = readExceptionTexts(path);
      content = contentOf(files);
      if (content === this.#seen) return false;
      this.#seen = content;
      const entries = parseExceptionFiles(files, isKnownRule, path);
      this.#current = new ExceptionSet(entries);
    } catch (error) {
      if (!(error instanceof ExceptionsFileError)) throw error;
      // An unreadable path is remembered too, so it is reported once, not at every poll.
      if (error.problems[0]?.message.startsWith('cannot read')) {
        if (this.#seen === '\0unreadable') return false;
        this.#seen = '\0unreadable';
      }
      this.#metrics?.reloads.inc({ result: 'error' });
      this.#metrics?.fileValid.set(0);
      logger.error(
        { code: error.code, exceptions_file: path, problems: error.located, kept: this.#current.size },
        'the exceptions file changed but is invalid; the previous exceptions stay in force',
      );
      return false;
    }
    this.#metrics?.reloads.inc({ result: 'ok' });
    this.#metrics?.fileValid.set(1);
    logger.info({ exceptions_file: path, exceptions: this.#current.size }, 'exceptions reloaded');
    return true;
  }
}
