// .dockerignore semantics as BuildKit applies them: patterns are cleaned paths relative to
// the context root, `*` and `?` stay inside one path segment, `**` spans segments, a pattern
// that matches a directory excludes everything below it, `!` re-includes, last match wins.

interface Rule {
  negate: boolean;
  re: RegExp;
}

function toRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` may also match zero directories.
        if (pattern[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  // A match on a directory also covers everything inside it.
  return new RegExp(`^${out}(?:/.*)?$`);
}

export function parseDockerignore(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    line = line.replace(/^\/+/, '').replace(/\/+$/, '');
    if (line.startsWith('./')) line = line.slice(2);
    rules.push({ negate, re: toRegExp(line) });
  }
  return rules;
}

/** True when `relPath` (forward slashes, relative to the context root) is excluded. */
export function isIgnored(rules: readonly Rule[], relPath: string): boolean {
  let ignored = false;
  for (const rule of rules) {
    if (rule.re.test(relPath)) ignored = !rule.negate;
  }
  return ignored;
}
