const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a Sigma timespan such as `60s`, `10m`, `1h` or `2d` into milliseconds; undefined when malformed. */
export function parseTimespan(text: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2] ?? ''];
  if (unit === undefined || amount <= 0) return undefined;
  return amount * unit;
}
