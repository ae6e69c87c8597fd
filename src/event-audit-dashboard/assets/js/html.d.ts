// Types of html.js for the server, which renders pages with the same module.
export declare class SafeHtml {
  constructor(value: string);
  readonly value: string;
  toString(): string;
}
export declare function escapeHtml(value: unknown): string;
export declare function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml;
export declare function raw(value: string): SafeHtml;
