import { openJsonlWriter } from '../rollout/jsonl.js';
import { EvalInputError, isPlainObject, kindOf, RecordReader } from './io.js';
import { PairRowError } from './pairs.js';
import { Interner } from './stats.js';
import { buildTreePairs, parseTree, TreeTally, type TreeStats } from './tree.js';

/**
 * `eval preferences`: general pairwise preferences over a set of responses (or models), without
 * assuming a point-wise reward. From comparisons `{a, b, winner}` (or `{a, b, p}` with p = P(a ≻ b)):
 *
 * - the win-rate matrix W[i][j] = (wins of i over j + ½·ties) / comparisons of i and j;
 * - the win-rate reward of "Direct Nash Optimization" (DNO), r_i = mean_{j≠i} P(i ≻ j) over the
 *   opponents i met — the reward DNO trains on, defined even when preferences are not transitive;
 * - a Bradley–Terry fit (MM algorithm, Hunter 2004 "MM algorithms for generalized Bradley–Terry
 *   models"), with a weak prior (½ win and ½ loss against a reference item of average strength) so that
 *   an item that never wins keeps a finite score; its fit error shows how much a point-wise reward misses;
 * - preference cycles: i → j when W[i][j] > ½ + margin; cyclic triples (i beats j beats k beats i) and
 *   strongly connected components larger than one item are intransitivities no point-wise reward can
 *   express.
 *
 * Rows may also be response trees `{tree: {text, children: [...], score}, prompt?, id?}` (tree-structured
 * preferences, see `tree.ts`): each becomes the comparisons of leaves of different child subtrees at
 * every branching node, as one group named by the row's id; `pairsOut` writes those comparisons as
 * {prompt, chosen, rejected} pairs for `eval pairs` or `rm train`.
 */

export interface Comparison {
  a: string;
  b: string;
  /** P(a ≻ b) observed: 1 a won, 0 b won, ½ tie, or a probability. */
  p: number;
  group: string | null;
}

/** Reads one comparison row: `{a, b, winner: 'a'|'b'|'tie'|<a or b's name>}`, `{a, b, p}`, or `{chosen, rejected}` (names). */
export function parseComparison(v: unknown): Comparison {
  if (!isPlainObject(v)) throw new PairRowError('(record)', `expected a JSON object, got ${kindOf(v)}`);
  const name = (x: unknown, f: string): string => {
    if (typeof x === 'string' && x.length > 0) return x;
    if (typeof x === 'number') return String(x);
    throw new PairRowError(f, `expected a response or model name (string), got ${kindOf(x)}`);
  };
  const group = v.group !== undefined && v.group !== null ? String(v.group) : typeof v.prompt === 'string' ? v.prompt : null;
  if (v.a === undefined && v.chosen !== undefined) return { a: name(v.chosen, 'chosen'), b: name(v.rejected, 'rejected'), p: 1, group };
  const a = name(v.a, 'a');
  const b = name(v.b, 'b');
  if (a === b) throw new PairRowError('b', `compares "${a}" with itself`);
  if (v.p !== undefined) {
    if (typeof v.p !== 'number' || !(v.p >= 0 && v.p <= 1)) throw new PairRowError('p', `expected a probability in [0, 1], got ${JSON.stringify(v.p)}`);
    return { a, b, p: v.p, group };
  }
  const w = v.winner;
  if (w === 'a' || w === a) return { a, b, p: 1, group };
  if (w === 'b' || w === b) return { a, b, p: 0, group };
  if (w === 'tie' || w === 'draw' || w === null) return { a, b, p: 0.5, group };
  throw new PairRowError('winner', `expected "a", "b", "tie" or one of the two names, got ${JSON.stringify(w)}`);
}

/** Pairwise tallies over a set of items: wins[i][j] (fractional) and counts[i][j] (symmetric). */
export class PreferenceTable {
  readonly items = new Interner();
  private wins: number[][] = [];
  private counts: number[][] = [];

  private grow(): void {
    const n = this.items.size;
    while (this.wins.length < n) {
      this.wins.push([]);
      this.counts.push([]);
    }
    for (let i = 0; i < n; i++) {
      while (this.wins[i]!.length < n) {
        this.wins[i]!.push(0);
        this.counts[i]!.push(0);
      }
    }
  }

  add(a: string, b: string, p: number): void {
    const i = this.items.id(a);
    const j = this.items.id(b);
    if (this.wins.length < this.items.size) this.grow();
    this.wins[i]![j]! += p;
    this.wins[j]![i]! += 1 - p;
    this.counts[i]![j]!++;
    this.counts[j]![i]!++;
  }

  /** W[i][j], NaN where i and j never met (and on the diagonal). */
  winRates(): number[][] {
    const n = this.items.size;
    this.grow();
    return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i !== j && this.counts[i]![j]! > 0 ? this.wins[i]![j]! / this.counts[i]![j]! : NaN)));
  }

  countMatrix(): number[][] {
    this.grow();
    return this.counts.map((r) => r.slice());
  }

  winMatrix(): number[][] {
    this.grow();
    return this.wins.map((r) => r.slice());
  }
}

/**
 * DNO's win-rate reward: r_i = mean over the opponents j that i met of W[i][j].
 *
 * @example
 * // P(a≻b) = .8, P(a≻c) = .6, P(b≻c) = .3
 * winRateReward([[NaN, .8, .6], [.2, NaN, .3], [.4, .7, NaN]]) // → [0.7, 0.25, 0.55]
 */
export function winRateReward(W: readonly (readonly number[])[]): number[] {
  return W.map((row, i) => {
    let s = 0;
    let k = 0;
    row.forEach((w, j) => {
      if (j !== i && w === w) {
        s += w;
        k++;
      }
    });
    return k ? s / k : NaN;
  });
}

export interface BradleyTerryFit {
  /** log-strengths, centred to mean 0: P(i ≻ j) = σ(s_i − s_j). */
  scores: number[];
  iterations: number;
  converged: boolean;
}

/**
 * Bradley–Terry by minorisation–maximisation on fractional win counts. `prior` (default 0.5) adds that
 * many wins and losses against a reference item of the average (geometric-mean) strength, which keeps
 * every strength finite; strengths are renormalised to geometric mean 1 after each step.
 */
export function fitBradleyTerry(wins: readonly (readonly number[])[], counts: readonly (readonly number[])[], prior = 0.5, maxIter = 10_000, tol = 1e-10): BradleyTerryFit {
  const n = wins.length;
  let p = new Float64Array(n).fill(1);
  const W = wins.map((r) => r.reduce((a, b) => a + b, 0));
  let it = 0;
  let converged = false;
  for (; it < maxIter; it++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let den = prior > 0 ? (2 * prior) / (p[i]! + 1) : 0;
      for (let j = 0; j < n; j++) if (j !== i && counts[i]![j]! > 0) den += counts[i]![j]! / (p[i]! + p[j]!);
      next[i] = den > 0 ? (W[i]! + prior) / den : p[i]!;
    }
    // Keep the geometric mean at 1 (the reference's strength), so the prior pulls towards the average item.
    let g = 0;
    for (let i = 0; i < n; i++) g += Math.log(next[i]!);
    g = Math.exp(g / (n || 1));
    let change = 0;
    for (let i = 0; i < n; i++) {
      next[i] = next[i]! / g;
      change = Math.max(change, Math.abs(Math.log(next[i]!) - Math.log(p[i]!)));
    }
    p = next;
    if (change < tol) {
      converged = true;
      it++;
      break;
    }
  }
  const logs = Array.from(p, (x) => Math.log(x));
  const m = logs.reduce((a, b) => a + b, 0) / (n || 1);
  return { scores: logs.map((x) => x - m), iterations: it, converged };
}

export interface CycleReport {
  /** Number of cyclic triples (i → j → k → i). */
  triangles: number;
  /** Triples whose three edges are all decided (W ≠ ½ with enough comparisons). */
  decided_triples: number;
  /** Cyclic triples / decided triples. */
  cyclic_triple_rate: number | null;
  /** The strongest cyclic triples (strength = the smallest W − ½ along the cycle), at most 20; null when too many items to list. */
  strongest: { items: [string, string, string]; strength: number }[] | null;
  /** Strongly connected components with more than one item: sets where every item is both above and below another. */
  components: string[][];
}

/** Finds intransitivities in the majority graph i → j ⇔ W[i][j] > ½ + margin (with at least `minCount` comparisons). */
export function findCycles(W: readonly (readonly number[])[], counts: readonly (readonly number[])[], names: readonly string[], margin = 0, minCount = 1): CycleReport {
  const n = W.length;
  const edge = (i: number, j: number) => counts[i]![j]! >= minCount && W[i]![j]! > 0.5 + margin;
  const decided = (i: number, j: number) => edge(i, j) || edge(j, i);
  let triangles = 0;
  let decidedTriples = 0;
  const strongest: { items: [string, string, string]; strength: number }[] = [];
  const list = n <= 400;
  if (list) {
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        if (!decided(i, j)) continue;
        for (let k = j + 1; k < n; k++) {
          if (!decided(i, k) || !decided(j, k)) continue;
          decidedTriples++;
          let cyc: [number, number, number] | null = null;
          if (edge(i, j) && edge(j, k) && edge(k, i)) cyc = [i, j, k];
          else if (edge(i, k) && edge(k, j) && edge(j, i)) cyc = [i, k, j];
          if (!cyc) continue;
          triangles++;
          const [x, y, z] = cyc;
          const strength = Math.min(W[x]![y]!, W[y]![z]!, W[z]![x]!) - 0.5;
          strongest.push({ items: [names[x]!, names[y]!, names[z]!], strength });
          if (strongest.length > 200) {
            strongest.sort((a, b) => b.strength - a.strength);
            strongest.length = 20;
          }
        }
      }
  } else {
    // Count with bitsets: each cyclic triangle is seen once per edge.
    const words = Math.ceil(n / 32);
    const out = Array.from({ length: n }, () => new Uint32Array(words));
    const inn = Array.from({ length: n }, () => new Uint32Array(words));
    const dec = Array.from({ length: n }, () => new Uint32Array(words));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        if (i !== j && edge(i, j)) {
          out[i]![j >>> 5]! |= 1 << (j & 31);
          inn[j]![i >>> 5]! |= 1 << (i & 31);
        }
    for (let i = 0; i < n; i++) for (let w = 0; w < words; w++) dec[i]![w] = out[i]![w]! | inn[i]![w]!;
    const pop = (x: number) => {
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    };
    let t3 = 0;
    let d3 = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        if (edge(i, j)) for (let w = 0; w < words; w++) t3 += pop(out[j]![w]! & inn[i]![w]!);
        if (j > i && decided(i, j)) for (let w = 0; w < words; w++) d3 += pop(dec[i]![w]! & dec[j]![w]!);
      }
    triangles = t3 / 3;
    decidedTriples = d3 / 3;
  }
  strongest.sort((a, b) => b.strength - a.strength);
  if (strongest.length > 20) strongest.length = 20;

  // Tarjan's strongly connected components (iterative).
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const comps: string[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (work.length) {
      const top = work[work.length - 1]!;
      const [v] = top;
      if (top[1] < n) {
        const w = top[1]++;
        if (w === v || !edge(v, w)) continue;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const comp: string[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(names[w]!);
        } while (w !== v);
        if (comp.length > 1) comps.push(comp.reverse());
      }
    }
  }
  comps.sort((a, b) => b.length - a.length);
  return { triangles, decided_triples: decidedTriples, cyclic_triple_rate: decidedTriples ? triangles / decidedTriples : null, strongest: list ? strongest : null, components: comps };
}

/** The stable JSON of `eval preferences`. */
export interface PreferencesResult {
  eval: 'preferences';
  input: string;
  /** Comparison rows used. */
  n: number;
  items: string[];
  /** W[i][j], null where i and j never met. */
  matrix: (number | null)[][];
  counts: number[][];
  win_rate: Record<string, number | null>;
  bradley_terry: {
    scores: Record<string, number>;
    iterations: number;
    converged: boolean;
    /** Mean |W − σ(s_i − s_j)| over compared pairs, weighted by comparisons. */
    mean_abs_error: number | null;
    /** Compared pairs where the majority and the fit disagree on the direction. */
    direction_disagreements: number;
  };
  /** Items by Bradley–Terry score, best first. */
  ranking: string[];
  /** The item that beats every item it met, if any. */
  condorcet_winner: string | null;
  cycles: CycleReport;
  transitive: boolean;
  /** With `group` (or `prompt`) on the rows: per-group cycle counts. */
  groups: { count: number; with_cycles: number; cyclic_triple_rate: number | null } | null;
  out: { path: string; written: number } | null;
  /** Rows given as response trees (tree-structured preferences); null when there were none. */
  tree: TreeStats | null;
  /** With `pairsOut`: the tree comparisons written as {prompt, chosen, rejected} (ties left out). */
  pairs_out: { path: string; written: number } | null;
  bad_lines: number;
}

export interface PreferencesOptions {
  /** An edge needs W > ½ + margin (default 0). */
  margin?: number;
  /** An edge needs at least this many comparisons (default 1). */
  minComparisons?: number;
  /** Bradley–Terry prior pseudo-count (default 0.5). */
  prior?: number;
}

/** Analyses a table of comparisons. */
export function preferencesResult(table: PreferenceTable, meta: { input: string; n: number; badLines?: number }, o: PreferencesOptions = {}): PreferencesResult {
  const names = table.items.names;
  const W = table.winRates();
  const C = table.countMatrix();
  const wins = table.winMatrix();
  const r = winRateReward(W);
  const bt = fitBradleyTerry(wins, C, o.prior ?? 0.5);
  let errSum = 0;
  let errW = 0;
  let disagree = 0;
  for (let i = 0; i < names.length; i++)
    for (let j = i + 1; j < names.length; j++) {
      const c = C[i]![j]!;
      if (!c) continue;
      const pred = 1 / (1 + Math.exp(bt.scores[j]! - bt.scores[i]!));
      errSum += c * Math.abs(W[i]![j]! - pred);
      errW += c;
      const w = W[i]![j]!;
      if (w !== 0.5 && pred !== 0.5 && w > 0.5 !== pred > 0.5) disagree++;
    }
  const cycles = findCycles(W, C, names, o.margin ?? 0, o.minComparisons ?? 1);
  let condorcet: string | null = null;
  for (let i = 0; i < names.length && condorcet === null; i++) {
    let met = 0;
    let beats = 0;
    for (let j = 0; j < names.length; j++)
      if (j !== i && C[i]![j]! > 0) {
        met++;
        if (W[i]![j]! > 0.5) beats++;
      }
    if (met > 0 && beats === met && met === names.length - 1) condorcet = names[i]!;
  }
  const ranking = names.map((_, i) => i).sort((a, b) => bt.scores[b]! - bt.scores[a]!).map((i) => names[i]!);
  return {
    eval: 'preferences',
    input: meta.input,
    n: meta.n,
    items: [...names],
    matrix: W.map((row) => row.map((x) => (x === x ? x : null))),
    counts: C,
    win_rate: Object.fromEntries(names.map((nm, i) => [nm, r[i]! === r[i]! ? r[i]! : null])),
    bradley_terry: {
      scores: Object.fromEntries(names.map((nm, i) => [nm, bt.scores[i]!])),
      iterations: bt.iterations,
      converged: bt.converged,
      mean_abs_error: errW ? errSum / errW : null,
      direction_disagreements: disagree,
    },
    ranking,
    condorcet_winner: condorcet,
    cycles,
    transitive: cycles.triangles === 0 && cycles.components.length === 0,
    groups: null,
    out: null,
    tree: null,
    pairs_out: null,
    bad_lines: meta.badLines ?? 0,
  };
}

/** Reads a comparisons file and analyses it; with `out`, writes one row per (group,) item with its win-rate reward and Bradley–Terry score. */
export async function evaluatePreferences(
  path: string,
  o: PreferencesOptions & { strict?: boolean; log?: (s: string) => void; out?: string; pairsOut?: string } = {},
): Promise<PreferencesResult> {
  if (o.out === '-') throw new EvalInputError('--out needs a file: stdout carries the result');
  if (o.pairsOut === '-') throw new EvalInputError('--pairs-out needs a file: stdout carries the result');
  const trees = new TreeTally();
  const pairsWriter = o.pairsOut ? openJsonlWriter(o.pairsOut) : null;
  let pairsWritten = 0;
  const reader = new RecordReader(path, { strict: o.strict, log: o.log });
  const table = new PreferenceTable();
  const groups = new Map<string, PreferenceTable>();
  let n = 0;
  for await (const chunk of reader.chunks()) {
    let treeRows = '';
    for (const rec of chunk) {
      if (isPlainObject(rec.value) && rec.value.tree !== undefined) {
        const v = rec.value;
        let root;
        try {
          root = parseTree(v.tree);
          if (v.prompt !== undefined && v.prompt !== null && typeof v.prompt !== 'string') throw new PairRowError('prompt', `expected a string, got ${kindOf(v.prompt)}`);
        } catch (e) {
          if (e instanceof PairRowError) {
            reader.bad(rec.line, e.message);
            continue;
          }
          throw e;
        }
        const key = typeof v.id === 'string' && v.id ? v.id : typeof v.id === 'number' ? String(v.id) : `line-${rec.line}`;
        const tp = buildTreePairs(root);
        trees.add(root, tp);
        let g = groups.get(key);
        if (!g) groups.set(key, (g = new PreferenceTable()));
        for (const p of tp) {
          n++;
          table.add(`${key}/${p.a}`, `${key}/${p.b}`, p.p);
          g.add(`${key}/${p.a}`, `${key}/${p.b}`, p.p);
          if (pairsWriter && p.p !== 0.5) {
            const [chosen, rejected] = p.p === 1 ? [p.aText, p.bText] : [p.bText, p.aText];
            treeRows += JSON.stringify({ id: `${key}/${p.p === 1 ? p.a : p.b}>${p.p === 1 ? p.b : p.a}`, ...(typeof v.prompt === 'string' ? { prompt: v.prompt } : {}), chosen, rejected, meta: { tree: key, depth: p.depth, shared_prefix: p.prefix.length } }) + '\n';
            pairsWritten++;
          }
        }
        continue;
      }
      let c: Comparison;
      try {
        c = parseComparison(rec.value);
      } catch (e) {
        if (e instanceof PairRowError) {
          reader.bad(rec.line, e.message);
          continue;
        }
        throw e;
      }
      n++;
      table.add(c.a, c.b, c.p);
      if (c.group !== null) {
        let g = groups.get(c.group);
        if (!g) groups.set(c.group, (g = new PreferenceTable()));
        g.add(c.a, c.b, c.p);
      }
    }
    if (pairsWriter && treeRows) await pairsWriter.write(treeRows);
  }
  if (pairsWriter) {
    await pairsWriter.close();
  }
  if (n === 0) throw new EvalInputError(`${path}: no usable comparisons (${reader.badLines} bad lines)`);
  const result = preferencesResult(table, { input: path, n, badLines: reader.badLines }, o);
  if (trees.size > 0) result.tree = trees.result();
  if (o.pairsOut) result.pairs_out = { path: o.pairsOut, written: pairsWritten };
  let rows = '';
  let written = 0;
  if (groups.size > 0) {
    let withCycles = 0;
    let tri = 0;
    let rateDen = 0;
    for (const [key, g] of groups) {
      const W = g.winRates();
      const cy = findCycles(W, g.countMatrix(), g.items.names, o.margin ?? 0, o.minComparisons ?? 1);
      if (cy.triangles > 0 || cy.components.length > 0) withCycles++;
      tri += cy.triangles;
      rateDen += cy.decided_triples;
      if (o.out) {
        const r = winRateReward(W);
        g.items.names.forEach((item, i) => {
          rows += JSON.stringify({ group: key, item, win_rate: r[i]! === r[i]! ? r[i] : null }) + '\n';
          written++;
        });
      }
    }
    result.groups = { count: groups.size, with_cycles: withCycles, cyclic_triple_rate: rateDen > 0 ? tri / rateDen : null };
  } else if (o.out) {
    result.items.forEach((item) => {
      rows += JSON.stringify({ item, win_rate: result.win_rate[item], bradley_terry: result.bradley_terry.scores[item] }) + '\n';
      written++;
    });
  }
  if (o.out) {
    const w = openJsonlWriter(o.out);
    await w.write(rows);
    await w.close();
    result.out = { path: o.out, written };
  }
  return result;
}
