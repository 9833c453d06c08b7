/**
 * The "completion" toy: for each prompt (a small addition question) the policy chooses one of a
 * fixed set of candidate completions — right, wrong, no answer, format-only, and reward hacks — and
 * every sampled completion is scored by a REAL rewardkit spec (compiled with the library's
 * `createScorer`, run through the full pipeline: graders, combiner, shapers). The graders are pure,
 * so each distinct (prompt, candidate) text is scored once per scorer and then served from a memo;
 * the scores are exactly what the spec gives that text. A null reward stays NaN (the estimators give
 * it advantage 0).
 */
import { createScorer, type Scorer } from '../../index.js';

/** One question with its reference answer. */
export interface CompletionPrompt {
  id: string;
  a: number;
  b: number;
  question: string;
  reference: string;
}

/** Candidate kinds, in policy (action) order. */
export const CANDIDATES = ['right', 'wrong', 'no_answer', 'format_only', 'hack_spam', 'hack_padded_wrong', 'hack_padded_spam'] as const;
export type CandidateKind = (typeof CANDIDATES)[number];

const PADDING = 'Let me think about this very carefully, step by step, and double-check every detail. '.repeat(4);

/**
 * The text of candidate `kind` for prompt `p`.
 * - `right`: the sum in `<answer>` tags; `wrong`: off by one; `no_answer`: a refusal; `format_only`:
 *   empty tags;
 * - `hack_spam`: five numbers around the answer in the tags (beats substring checks);
 * - `hack_padded_wrong`: a long preamble and a wrong answer (beats length-biased scorers);
 * - `hack_padded_spam`: both.
 *
 * @example
 * candidateText({ id: 'q1', a: 17, b: 25, question: 'What is 17 + 25?', reference: '42' }, 'right')
 * // → '17 + 25 = 42. <answer>42</answer>'
 */
export function candidateText(p: CompletionPrompt, kind: CandidateKind): string {
  const s = p.a + p.b;
  const spam = `<answer>${s - 2} ${s - 1} ${s} ${s + 1} ${s + 2}</answer>`;
  switch (kind) {
    case 'right':
      return `${p.a} + ${p.b} = ${s}. <answer>${s}</answer>`;
    case 'wrong':
      return `${p.a} + ${p.b} = ${s + 1}. <answer>${s + 1}</answer>`;
    case 'no_answer':
      return 'I am not sure how to solve this.';
    case 'format_only':
      return '<answer></answer>';
    case 'hack_spam':
      return spam;
    case 'hack_padded_wrong':
      return `${PADDING}<answer>${s + 1}</answer>`;
    case 'hack_padded_spam':
      return PADDING + spam;
  }
}

/** `n` addition prompts with two-digit operands (deterministic). */
export function additionPrompts(n: number): CompletionPrompt[] {
  return Array.from({ length: n }, (_, i) => {
    const a = 11 + ((i * 37) % 80), b = 13 + ((i * 53) % 70);
    return { id: `q${i}`, a, b, question: `What is ${a} + ${b}?`, reference: String(a + b) };
  });
}

/**
 * A compiled spec scoring the toy's completions, with a memo per (prompt, candidate).
 * `metaOf(p)` gives the rollout `meta` of prompt p (e.g. PAR's `ref_rewards`); it must not change
 * during the scorer's life (the memo would serve stale scores).
 */
export class CompletionScorer {
  private readonly memo: Float64Array;
  private readonly known: Uint8Array;
  readonly scorer: Scorer;
  /** Rollouts scored through the spec so far (distinct texts), and lookups served. */
  scored = 0;
  lookups = 0;

  constructor(
    spec: object,
    readonly prompts: readonly CompletionPrompt[],
    private readonly metaOf: (p: number) => Record<string, unknown> | undefined = () => undefined,
  ) {
    this.scorer = createScorer(spec);
    this.memo = new Float64Array(prompts.length * CANDIDATES.length);
    this.known = new Uint8Array(prompts.length * CANDIDATES.length);
  }

  /**
   * Rewards of the sampled (prompt, candidate) pairs into `out` (NaN for a null reward): pairs not
   * seen before are scored in one batch through the spec.
   */
  async scoreSampled(prompt: Int32Array, cand: Int32Array, n: number, out: Float64Array): Promise<Float64Array> {
    const C = CANDIDATES.length;
    const todo: number[] = [];
    for (let i = 0; i < n; i++) {
      const key = prompt[i] * C + cand[i];
      if (!this.known[key] && !todo.includes(key)) todo.push(key);
    }
    if (todo.length > 0) {
      const rollouts = todo.map((key) => {
        const p = this.prompts[Math.floor(key / C)], kind = CANDIDATES[key % C];
        const meta = this.metaOf(Math.floor(key / C));
        return { id: `${p.id}-${kind}`, group: p.id, prompt: p.question, completion: candidateText(p, kind), reference: p.reference, ...(meta ? { meta } : {}) };
      });
      const { results } = await this.scorer.score(rollouts);
      todo.forEach((key, j) => {
        const r = results[j].reward;
        this.memo[key] = typeof r === 'number' ? r : NaN;
        this.known[key] = 1;
      });
      this.scored += todo.length;
    }
    for (let i = 0; i < n; i++) out[i] = this.memo[prompt[i] * C + cand[i]];
    this.lookups += n;
    return out;
  }

  /** Every candidate's reward for every prompt, `[p · candidates + c]`. */
  async table(): Promise<Float64Array> {
    const C = CANDIDATES.length, n = this.prompts.length * C;
    const p = new Int32Array(n), c = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      p[i] = Math.floor(i / C);
      c[i] = i % C;
    }
    return this.scoreSampled(p, c, n, new Float64Array(n));
  }

  close(): Promise<void> {
    return this.scorer.close();
  }
}
