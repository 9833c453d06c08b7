/**
 * Renders rows as a plain-text table with aligned columns (numbers right-aligned), for terminal summaries.
 * @example
 * renderTable(['name', 'mean'], [['correct', '0.50']]) // → 'name     mean\n───────  ────\ncorrect  0.50'
 */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+(e[-+]?\d+)?%?$|^-$|^null$/.test(r[c] ?? '')));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

/** Formats a number for a summary cell: 4 significant decimals, `-` for NaN (no data). */
export function num(x: number): string {
  if (Number.isNaN(x)) return '-';
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return x.toExponential(3);
  return x.toFixed(4);
}
