import { isPlainObject, kindOf } from './io.js';
import { PairRowError } from './pairs.js';

/**
 * Tree-structured preferences ("Reward Generalization in RLHF: A Topological Perspective", Qiu et al.
 * 2024; mechanics-B §6 [TXT/INF]). Responses are sampled as a tree: each node is a text segment, a
 * response is the concatenation of the segments on the path from the root to a leaf, so responses
 * that branch from the same node share that node's path as a prefix. The paper's claim is that
 * comparing responses that share a prefix (the tree topology) gives the reward model more information
 * per label than comparing independent responses (the chain topology) — the comparison isolates what
 * differs after the shared part.
 *
 * The reading implemented here [INF, the reference's]: for every internal node v and every two
 * children c_i ≠ c_j of v, every scored leaf below c_i is compared with every scored leaf below c_j.
 * Each pair therefore shares at least the path text of v, and the number of pairs is
 * Σ_v Σ_{i<j} |L(c_i)|·|L(c_j)| (L = scored leaves of a subtree). Every two leaves are compared exactly
 * once (at their lowest common ancestor). Which leaf wins is read from the leaves' `score` (a human or
 * gold rating): the higher score wins, equal scores are a tie (P = ½).
 */

/** One node of a response tree: a text segment, its children, and (for leaves) a score. */
export interface TreeNode {
  text: string;
  children: TreeNode[];
  /** Rating of the response ending at this leaf; null when unscored (such leaves are not compared). */
  score: number | null;
  /** Name of the node (`id` in the input, else its path of child indices, e.g. `0.2.1`). */
  id: string;
}

/** One comparison produced from a tree. */
export interface TreePair {
  /** Ids of the two leaves, `a` from the earlier child subtree. */
  a: string;
  b: string;
  /** Full response texts (root-to-leaf concatenations). */
  aText: string;
  bText: string;
  /** P(a ≻ b) from the scores: 1, 0 or ½. */
  p: number;
  /** Text shared by construction: the path text of the branching node. */
  prefix: string;
  /** Depth of the branching node (root = 0). */
  depth: number;
}

const MAX_NODES = 100_000;

/**
 * Reads a response tree `{text?, children?: [...], score?, id?}` (a node without children is a leaf).
 * Throws {@link PairRowError} naming the field (`tree.children[1].score`) for bad input.
 *
 * @example
 * parseTree({ text: 'A', children: [{ text: 'b', score: 1 }, { text: 'c', score: 0 }] }).children.length // → 2
 */
export function parseTree(v: unknown, field = 'tree'): TreeNode {
  let count = 0;
  const walk = (x: unknown, f: string, path: string, depth: number): TreeNode => {
    if (!isPlainObject(x)) throw new PairRowError(f, `expected a tree node object, got ${kindOf(x)}`);
    if (++count > MAX_NODES) throw new PairRowError(f, `tree has more than ${MAX_NODES} nodes`);
    if (depth > 1000) throw new PairRowError(f, 'tree is deeper than 1000 levels');
    const text = x.text === undefined || x.text === null ? '' : x.text;
    if (typeof text !== 'string') throw new PairRowError(`${f}.text`, `expected a string, got ${kindOf(text)}`);
    let score: number | null = null;
    if (x.score !== undefined && x.score !== null) {
      if (typeof x.score !== 'number' || !Number.isFinite(x.score)) throw new PairRowError(`${f}.score`, `expected a finite number, got ${JSON.stringify(x.score)}`);
      score = x.score;
    }
    const id = typeof x.id === 'string' && x.id ? x.id : typeof x.id === 'number' ? String(x.id) : path;
    let children: TreeNode[] = [];
    if (x.children !== undefined && x.children !== null) {
      if (!Array.isArray(x.children)) throw new PairRowError(`${f}.children`, `expected a list of nodes, got ${kindOf(x.children)}`);
      children = x.children.map((c, i) => walk(c, `${f}.children[${i}]`, path === 'root' ? String(i) : `${path}.${i}`, depth + 1));
    }
    return { text, children, score, id };
  };
  return walk(v, field, 'root', 0);
}

/**
 * The comparisons of a response tree (see the module comment): leaves of different child subtrees of
 * each internal node, compared by score. Leaves without a score take part in no pair.
 *
 * @example
 * // root "Q:" with children "x" (leaves "x1" 2, "x2" 1) and "y" (leaf 0)
 * buildTreePairs(parseTree({ text: 'Q:', children: [
 *   { text: 'x', children: [{ text: '1', score: 2 }, { text: '2', score: 1 }] },
 *   { text: 'y', score: 0 } ] })).length
 * // → 3: (x1, x2) at "Q:x", (x1, y) and (x2, y) at "Q:"
 */
export function buildTreePairs(root: TreeNode): TreePair[] {
  const out: TreePair[] = [];
  type Leaf = { id: string; text: string; score: number };
  const visit = (node: TreeNode, prefix: string, depth: number): Leaf[] => {
    const here = prefix + node.text;
    if (node.children.length === 0) return node.score === null ? [] : [{ id: node.id, text: here, score: node.score }];
    const sets = node.children.map((c) => visit(c, here, depth + 1));
    for (let i = 0; i < sets.length; i++)
      for (let j = i + 1; j < sets.length; j++)
        for (const a of sets[i]!)
          for (const b of sets[j]!) out.push({ a: a.id, b: b.id, aText: a.text, bText: b.text, p: a.score > b.score ? 1 : a.score < b.score ? 0 : 0.5, prefix: here, depth });
    return sets.flat();
  };
  visit(root, '', 0);
  return out;
}

/** What `eval preferences` reports about tree rows. */
export interface TreeStats {
  trees: number;
  leaves: number;
  /** Leaves with a score (the ones compared). */
  scored_leaves: number;
  pairs: number;
  /** Pairs whose two leaves have the same score. */
  ties: number;
  /** Pairs per depth of the branching node (index = depth). */
  pairs_by_depth: number[];
  /** Mean length (UTF-16 units) of the shared prefix over pairs. */
  mean_shared_prefix: number | null;
  /**
   * Pairs a chain dataset (independent responses, one comparison per disjoint pair) would get from
   * the same scored leaves: Σ_trees ⌊|L|/2⌋. The tree gives every two leaves a comparison.
   */
  chain_pairs: number;
}

/** Accumulates {@link TreeStats} over trees. */
export class TreeTally {
  private s: TreeStats = { trees: 0, leaves: 0, scored_leaves: 0, pairs: 0, ties: 0, pairs_by_depth: [], mean_shared_prefix: null, chain_pairs: 0 };
  private prefixSum = 0;

  add(root: TreeNode, pairs: readonly TreePair[]): void {
    const s = this.s;
    s.trees++;
    let leaves = 0;
    let scored = 0;
    const stack = [root];
    while (stack.length) {
      const n = stack.pop()!;
      if (n.children.length === 0) {
        leaves++;
        if (n.score !== null) scored++;
      } else stack.push(...n.children);
    }
    s.leaves += leaves;
    s.scored_leaves += scored;
    s.chain_pairs += Math.floor(scored / 2);
    for (const p of pairs) {
      s.pairs++;
      if (p.p === 0.5) s.ties++;
      while (s.pairs_by_depth.length <= p.depth) s.pairs_by_depth.push(0);
      s.pairs_by_depth[p.depth]!++;
      this.prefixSum += p.prefix.length;
    }
  }

  get size(): number {
    return this.s.trees;
  }

  result(): TreeStats {
    return { ...this.s, pairs_by_depth: [...this.s.pairs_by_depth], mean_shared_prefix: this.s.pairs ? this.prefixSum / this.s.pairs : null };
  }
}
