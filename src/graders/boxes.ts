/**
 * `\boxed{…}` / `\fbox{…}` as every answer reader sees them (math's box spans and box content, the
 * numeric grader's last box, the `last_boxed` answer region) — one scan, so that no reader can be led
 * to a different box than another:
 * - only the outermost boxes: a box inside a box is part of its content (`\boxed{3 \text{ or }
 *   \boxed{5}}` is the box `3 \text{ or } \boxed{5}`, a hedge — not the box 5);
 * - braces balance with `\{`, `\}` (and `\\`) read as escaped characters, as LaTeX reads them
 *   (`\boxed{\} 3 \lor 5}` is one box, not the box `\` followed by a loose `3 \lor 5`);
 * - a box whose brace never closes runs to the end of the text (`closed: false`): the rest is inside it;
 * - `\boxed 5`, `\boxed5` (no brace): the box holds the token up to the next blank or `$`, as the
 *   numeric grader has always read it; blanks (a line break too) may stand between `\boxed` and `{`;
 * - `\boxedx` is another command (a letter after the name), not a box.
 */

/** One box of a text: `start` (its backslash), content [`from`, `to`), `end` (after it). */
export interface BoxSpan {
  start: number;
  from: number;
  to: number;
  end: number;
  /** False for a `{` that never closes (the box then runs to `to` = `end` = the end of the range). */
  closed: boolean;
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isBlank = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** The box command at `at` (`\boxed` or `\fbox`): the index after its name, or -1. */
function commandEnd(text: string, at: number): number {
  const n = text.startsWith('\\boxed', at) ? 6 : text.startsWith('\\fbox', at) ? 5 : 0;
  return n === 0 || isLetter(text.charCodeAt(at + n)) ? -1 : at + n;
}

/**
 * The box whose command starts at `at` within [`at`, `to`), or null when `at` holds no box (another
 * command, or nothing after the name).
 */
export function boxAt(text: string, at: number, to = text.length): BoxSpan | null {
  let i = commandEnd(text, at);
  if (i < 0) return null;
  while (i < to && isBlank(text.charCodeAt(i))) i++;
  if (i >= to) return null;
  if (text.charCodeAt(i) === 123) {
    let depth = 0;
    for (let j = i; j < to; j++) {
      const c = text.charCodeAt(j);
      if (c === 92) j++; // `\{`, `\}`, `\\`: escaped
      else if (c === 123) depth++;
      else if (c === 125 && --depth === 0) return { start: at, from: i + 1, to: j, end: j + 1, closed: true };
    }
    return { start: at, from: i + 1, to, end: to, closed: false };
  }
  let e = i;
  while (e < to && !isBlank(text.charCodeAt(e)) && text.charCodeAt(e) !== 36) e++;
  return e > i ? { start: at, from: i, to: e, end: e, closed: true } : null;
}

/** Index of the next `\boxed`/`\fbox` at or after `from`, or -1. */
function nextCommand(text: string, from: number, to: number): number {
  for (let k = text.indexOf('\\', from); k >= 0 && k < to; k = text.indexOf('\\', k + 1)) {
    const c = text.charCodeAt(k + 1);
    // (A doubled backslash does not hide the command after it: `\\boxed{4}` is read as a box, as
    // Math-Verify and verl read it, since references often carry a backslash escaped twice.)
    if ((c === 98 || c === 102) && commandEnd(text, k) >= 0) return k;
  }
  return -1;
}

/**
 * The outermost boxes of `text[from, to)`, left to right (one pass: linear). An unclosed box is the
 * last one (it runs to `to`).
 *
 * @example
 * boxSpans('so \\boxed{3 \\text{ or } \\boxed{5}}.').map((b) => [b.from, b.to]) // → [[10, 33]]
 */
export function boxSpans(text: string, from = 0, to = text.length): BoxSpan[] {
  const out: BoxSpan[] = [];
  for (let at = nextCommand(text, from, to); at >= 0; ) {
    const b = boxAt(text, at, to);
    if (b === null) {
      at = nextCommand(text, at + 1, to);
      continue;
    }
    out.push(b);
    at = b.end >= to ? -1 : nextCommand(text, b.end, to);
  }
  return out;
}

/** The last outermost box of `text[from, to)`, or null. */
export function lastBoxSpan(text: string, from = 0, to = text.length): BoxSpan | null {
  // A quick miss for texts without a box; else one left-to-right scan (the last command may be nested).
  if (text.indexOf('\\boxed', from) < 0 && text.indexOf('\\fbox', from) < 0) return null;
  const all = boxSpans(text, from, to);
  return all.length > 0 ? all[all.length - 1]! : null;
}

/**
 * A box's content with the boxes inside it replaced by their own content (`\boxed{\boxed{5}}` holds
 * `5`; `\boxed{3 \text{ or } \boxed{5}}` holds `3 \text{ or } 5`): the inner boxes' commands and
 * braces dropped in one pass (linear, however deep they nest). `from` overrides where it starts.
 */
export function boxContent(text: string, b: BoxSpan, from = b.from): string {
  const to = b.to;
  if (nextCommand(text, from, to) < 0) return text.slice(from, to);
  let s = '';
  let k = from;
  // For each open brace: whether it opened an inner box (its closing brace is dropped too).
  const braces: boolean[] = [];
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) {
      const e = commandEnd(text, i);
      if (e < 0) {
        i++; // an escaped character or another command's first letter: kept as it is
        continue;
      }
      let j = e;
      while (j < to && isBlank(text.charCodeAt(j))) j++;
      s += text.slice(k, i);
      if (j < to && text.charCodeAt(j) === 123) {
        braces.push(true);
        k = j + 1;
      } else k = j;
      i = k - 1;
    } else if (c === 123) braces.push(false);
    else if (c === 125 && braces.pop() === true) {
      s += text.slice(k, i);
      k = i + 1;
    }
  }
  return s + text.slice(k, to);
}

/** `[from, to)` of a box's content, or of the single box it holds (up to 16 deep): `\boxed{ \boxed{5} }` → `5`. */
export function innermostContent(text: string, b: BoxSpan): [number, number] {
  for (let depth = 0; depth < 16; depth++) {
    let i = b.from;
    while (i < b.to && isBlank(text.charCodeAt(i))) i++;
    let e = b.to;
    while (e > i && isBlank(text.charCodeAt(e - 1))) e--;
    const x = i < e ? boxAt(text, i, b.to) : null;
    if (x === null || !x.closed || x.end !== e) break;
    b = x;
  }
  return [b.from, b.to];
}
