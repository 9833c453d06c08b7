/**
 * Maximum-weight one-to-one assignment between rows and columns (Hungarian algorithm, O(n²m)).
 * `score[i][j]` ≥ 0 is the value of pairing row i with column j. Returns, for each row, its column
 * or -1, and the total. Used to pair predicted calls with expected ones regardless of order.
 *
 * @example
 * maxAssignment([[1, 0], [1, 1]]) // → { columnOf: [0, 1], total: 2 }
 */
export function maxAssignment(score: readonly (readonly number[])[]): { columnOf: number[]; total: number } {
  const rows = score.length;
  const cols = rows === 0 ? 0 : score[0]!.length;
  if (rows === 0 || cols === 0) return { columnOf: new Array<number>(rows).fill(-1), total: 0 };
  const transpose = rows > cols;
  const n = transpose ? cols : rows;
  const m = transpose ? rows : cols;
  const cost = (i: number, j: number) => -(transpose ? score[j]![i]! : score[i]![j]!);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const columnOf = new Array<number>(rows).fill(-1);
  let total = 0;
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    const r = p[j]! - 1;
    const c = j - 1;
    const [row, col] = transpose ? [c, r] : [r, c];
    columnOf[row] = col;
    total += score[row]![col]!;
  }
  return { columnOf, total };
}
