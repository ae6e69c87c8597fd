/**
 * Splits a syslog TCP byte stream into messages, per RFC 6587: octet counting
 * (`<length> <message>`) when a frame starts with a digit, newline-terminated
 * framing (non-transparent, LF or NUL) when it starts with `<`. Senders may
 * not mix them within one connection in practice, but each frame is detected
 * on its own, which costs nothing.
 */
export class SyslogFramer {
  readonly #maxBytes: number;
  #buffer: Buffer = Buffer.alloc(0);

  constructor(maxMessageBytes: number) {
    this.#maxBytes = maxMessageBytes;
  }

  /** Bytes held for an incomplete frame. */
  get pending(): number {
    return this.#buffer.length;
  }

  /**
   * Appends a chunk and returns every complete frame. A frame that is too
   * long, or a length prefix that is not a number, comes back as an error
   * item, so the caller can dead-letter it with the reason.
   */
  push(chunk: Buffer): FrameItem[] {
    if (this.#discarding) {
      const newline = chunk.indexOf(10);
      if (newline < 0) return [];
      this.#discarding = false;
      chunk = chunk.subarray(newline + 1);
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const items: FrameItem[] = [];
    let offset = 0;
    const buffer = this.#buffer;
    while (offset < buffer.length) {
      const first = buffer[offset]!;
      if (first === 10 || first === 13 || first === 0 || first === 32) {
        offset++;
        continue;
      }
      if (first >= 48 && first <= 57) {
        const space = buffer.indexOf(32, offset);
        if (space < 0) {
          if (buffer.length - offset > 10) {
            items.push({ error: 'octet count without a space', raw: buffer.subarray(offset, offset + 64) });
            offset = skipLine(buffer, offset);
            continue;
          }
          break;
        }
        const length = Number(buffer.toString('latin1', offset, space));
        if (!Number.isInteger(length) || space - offset > 10 || length <= 0) {
          items.push({ error: 'invalid octet count', raw: buffer.subarray(offset, Math.min(buffer.length, offset + 64)) });
          offset = skipLine(buffer, offset);
          continue;
        }
        if (length > this.#maxBytes) {
          // The length is trustworthy, so the stream stays in sync: skip exactly that many bytes.
          if (buffer.length < space + 1 + length) break;
          items.push({ error: `message of ${length} bytes exceeds ${this.#maxBytes}`, raw: buffer.subarray(space + 1, space + 1 + 256) });
          offset = space + 1 + length;
          continue;
        }
        if (buffer.length < space + 1 + length) break;
        items.push({ frame: buffer.subarray(space + 1, space + 1 + length) });
        offset = space + 1 + length;
        continue;
      }
      let end = offset;
      while (end < buffer.length && buffer[end] !== 10 && buffer[end] !== 0) end++;
      if (end === buffer.length) {
        if (end - offset > this.#maxBytes) {
          items.push({ error: `message longer than ${this.#maxBytes} bytes without a newline`, raw: buffer.subarray(offset, offset + 256) });
          // Discard up to the next newline, whenever it comes.
          this.#buffer = Buffer.alloc(0);
          this.#discarding = true;
          return items;
        }
        break;
      }
      items.push({ frame: buffer.subarray(offset, end) });
      offset = end + 1;
    }
    this.#buffer = offset === 0 ? buffer : Buffer.from(buffer.subarray(offset));
    return items;
  }

  #discarding = false;
}

export type FrameItem = { frame: Buffer; error?: undefined } | { error: string; raw: Buffer; frame?: undefined };

function skipLine(buffer: Buffer, offset: number): number {
  const newline = buffer.indexOf(10, offset);
  return newline < 0 ? buffer.length : newline + 1;
}
