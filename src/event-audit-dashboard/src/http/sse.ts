import type { SseEvent } from '@auditflow/common';

export type { SseEvent };

/**
 * Incremental text/event-stream parser (WHATWG rules for line endings, fields
 * and comments). The proxy re-serialises whole events so its own keep-alive
 * comments can never land inside an event.
 */
export class SseParser {
  #buffer = '';
  /** The last chunk ended in \r: a \n starting the next one belongs to that line end. */
  #skipLf = false;
  #event: string | undefined;
  #id: string | undefined;
  #data: string[] = [];

  /** Feeds text; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#skipLf && text !== '') {
      if (text.startsWith('\n')) text = text.slice(1);
      this.#skipLf = false;
    }
    this.#buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      if (match[0] === '\r' && this.#buffer === '') this.#skipLf = true;
      const event = this.#line(line);
      if (event) events.push(event);
    }
    // An endless line without a newline would grow without bound.
    if (this.#buffer.length > 1_048_576) this.#buffer = '';
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') {
      if (this.#data.length === 0) {
        this.#event = undefined;
        return undefined;
      }
      const event = { event: this.#event, id: this.#id, data: this.#data.join('\n') };
      this.#event = undefined;
      this.#data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') this.#event = value;
    else if (name === 'data') this.#data.push(value);
    else if (name === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }
}
