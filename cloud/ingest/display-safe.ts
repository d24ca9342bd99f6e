/**
 * Text a vehicle or a stranger chose (claimed sender ids, vehicle ids, rejection codes read back
 * from a health file), made safe for a terminal: one line, nothing the terminal acts on, bounded.
 *
 * - C0/C1 control characters (newline, ESC of ANSI sequences, BEL, backspace, DEL...) -> `\xNN`
 * - Unicode format characters that reorder or hide text (bidi overrides and isolates, zero-width
 *   characters, line and paragraph separators, BOM) -> `\u{NNNN}`
 * - backslash -> `\\` (so an escape in the output always means the input had that character)
 * - longer than maxChars (after escaping) -> cut, ending in `...(N chars)` with the original length
 */
export const DISPLAY_MAX_CHARS = 64;

// eslint-disable-next-line no-control-regex
const UNSAFE_RE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\\]/u;

export function displaySafe(s: string, maxChars: number = DISPLAY_MAX_CHARS): string {
  const tokens: string[] = [];
  let length = 0;
  for (const c of s) {
    const t = UNSAFE_RE.test(c) ? escapeChar(c) : c;
    tokens.push(t);
    length += t.length;
  }
  if (length <= maxChars) return tokens.join('');
  // Cut between whole characters/escapes, leaving room for the marker.
  const tail = `...(${[...s].length} chars)`;
  let out = '';
  for (const t of tokens) {
    if (out.length + t.length > maxChars - tail.length) break;
    out += t;
  }
  return `${out}${tail}`;
}

function escapeChar(c: string): string {
  if (c === '\\') return '\\\\';
  const cp = c.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16).padStart(4, '0')}}`;
}

/** `s` cut to maxChars (no escaping): for JSON output, where JSON does the escaping. */
export function capLength(s: string, maxChars: number = DISPLAY_MAX_CHARS): string {
  return s.length <= maxChars ? s : `${s.slice(0, maxChars)}...(${s.length} chars)`;
}
