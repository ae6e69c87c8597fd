export declare function checking(argv?: readonly string[]): boolean;
export declare function failIfOutOfDate(paths: readonly string[], command: string): void;
export declare function writeOrCheck(
  files: readonly { path: string; content: string | Buffer | null }[],
  options: { command: string; check?: boolean },
): string[];
