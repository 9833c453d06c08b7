/**
 * Output comparison as competitive-programming checkers do it (testlib's `lcmp`, the default checker
 * of most judges): both texts are split into lines (`\r\n` = `\n`), each line into tokens separated
 * by whitespace; the outputs match when they have the same lines with the same tokens. So spaces and
 * tabs inside a line may differ in number, leading/trailing whitespace on a line is ignored, and
 * trailing blank lines (and a missing final newline) are ignored; a blank line in the middle counts.
 *
 * With `floatTolerance` > 0, two tokens that both read as finite numbers also match when
 * |a − b| ≤ tol · max(1, |b|) (b from the expected output) — for problems that accept approximate
 * answers; other tokens are compared exactly.
 */
export interface CompareOptions {
  floatTolerance?: number;
}

function tokenLines(text: string): string[][] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n').map((l) => l.split(/\s+/).filter((t) => t.length > 0));
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.length === 0) end--;
  return lines.slice(0, end);
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function tokensMatch(got: string, want: string, tol: number): boolean {
  if (got === want) return true;
  if (tol <= 0 || !NUMBER.test(got) || !NUMBER.test(want)) return false;
  const a = Number(got);
  const b = Number(want);
  return Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

/** Whether `actual` (the program's stdout) matches `expected` under the rules above. */
export function outputsMatch(actual: string, expected: string, opts: CompareOptions = {}): boolean {
  const tol = opts.floatTolerance ?? 0;
  const a = tokenLines(actual);
  const e = tokenLines(expected);
  if (a.length !== e.length) return false;
  for (let i = 0; i < a.length; i++) {
    const la = a[i]!;
    const le = e[i]!;
    if (la.length !== le.length) return false;
    for (let j = 0; j < la.length; j++) if (!tokensMatch(la[j]!, le[j]!, tol)) return false;
  }
  return true;
}
