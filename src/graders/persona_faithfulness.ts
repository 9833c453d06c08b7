import * as z from 'zod';
import type { Backend } from '../backends/types.js';
import type { Sample } from '../rollout/types.js';
import { defineGrader, ParamError } from './types.js';
import { continuationLogprobs, resolveBackend } from './model_calls.js';
import { compileTemplate, renderTemplate, type Template } from './judge/template.js';
import { Lru } from './math/lru.js';

/**
 * The probability of each label under a language model, as a classifier: each label's continuation
 * log-probability after `context` (summed over the label's tokens), softmaxed over the labels. A
 * discriminator's softmax over its classes is the same thing with one token per class.
 *
 * @example
 * // log p(' no') = ln 0.2, log p(' yes') = ln 0.8 after the context
 * await labelProbabilities(backend, 'Relevant? Answer:', [' no', ' yes']) // → [0.2, 0.8]
 */
export async function labelProbabilities(backend: Backend, context: string, labels: readonly string[]): Promise<number[]> {
  const sums = await Promise.all(labels.map(async (l) => (await continuationLogprobs(backend, context, l)).reduce((a, b) => a + b, 0)));
  return softmax(sums);
}

/** Softmax of log-scores (shifted by the maximum, so large magnitudes neither overflow nor vanish). */
export function softmax(logits: readonly number[]): number[] {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  let z = 0;
  const e = logits.map((x) => {
    const v = Math.exp(x - max);
    z += v;
    return v;
  });
  return e.map((v) => v / z);
}

/** One persona statement's relevance to the query, [P(no), P(yes)], and the NLI of the response against it, [P(contradicted), P(neutral), P(entailed)]. */
export interface StatementJudgement {
  relevance: readonly [number, number];
  nli: readonly [number, number, number];
}

/**
 * APC's per-statement score (KomeijiForce/Active_Passive_Constraint_Koishiday_2024 `score.py`):
 * P_rel[no]·(1 − P_nli[contradicted]) + P_rel[yes]·P_nli[entailed]. An irrelevant (passive)
 * statement only asks not to be contradicted; a relevant (active) one asks to be entailed. In [0, 1].
 *
 * @example
 * apcTerm({ relevance: [0.2, 0.8], nli: [0.1, 0.2, 0.7] }) // → 0.2·0.9 + 0.8·0.7 = 0.74
 */
export function apcTerm(j: StatementJudgement): number {
  return j.relevance[0] * (1 - j.nli[0]) + j.relevance[1] * j.nli[2];
}

/**
 * The APC score: Σ_s {@link apcTerm}(s) over the persona statements (a sum, range [0, |S|]).
 *
 * @example
 * apcScore([{ relevance: [0.2, 0.8], nli: [0.1, 0.2, 0.7] }, { relevance: [0.9, 0.1], nli: [0.6, 0.3, 0.1] }]) // → 0.74 + 0.37 = 1.11
 */
export function apcScore(judgements: readonly StatementJudgement[]): number {
  let s = 0;
  for (const j of judgements) s += apcTerm(j);
  return s;
}

const RELEVANCE_TEMPLATE =
  'Character: {{character}}\nPersona statement: {{statement}}\nUser query: {{query}}\n' +
  'Question: is the persona statement relevant to answering the user query? Answer yes or no.\nAnswer:';
const NLI_TEMPLATE =
  'Character: {{character}}\nPersona statement: {{statement}}\nUser query: {{query}}\nCharacter\'s response: {{response}}\n' +
  'Question: given the persona statement, is the response contradicted, neutral, or entailed? Answer contradicted, neutral or entailed.\nAnswer:';

const labelsOf = (n: number, what: string) =>
  z
    .array(z.string().min(1))
    .length(n)
    .optional()
    .describe(what);

/**
 * `persona_faithfulness` — the Active-Passive-Constraint (APC) score of persona-driven role-play
 * ("Quantifying and Optimizing Global Faithfulness in Persona-driven Role-playing", Peng & Shang 2024;
 * formula [SRC] from the authors' `score.py`): for each persona statement s of the character,
 * a relevance discriminator gives P_rel = [P(no), P(yes)] (is s relevant to the user's query?) and an
 * NLI discriminator gives P_nli = [P(contradicted), P(neutral), P(entailed)] (the response against s);
 * apc(s) = P_rel[no]·(1 − P_nli[contradicted]) + P_rel[yes]·P_nli[entailed], and APC = Σ_s apc(s)
 * (`aggregate: sum`, the paper's, range [0, |S|]; `mean` divides by |S|, range [0, 1]). Worked example
 * (mechanics-B §9): s1 rel [.2,.8], nli [.1,.2,.7] → 0.74; s2 rel [.9,.1], nli [.6,.3,.1] → 0.37;
 * APC = 1.11.
 *
 * **Through a backend.** The paper distils two small classifiers from GPT-4; here both
 * discriminators are a language model behind a backend with `logprobs` (`backend`, and optionally a
 * separate `nli_backend`): each class is a verbalised label (`relevance_labels`, default " no"/" yes";
 * `nli_labels`, default " contradicted"/" neutral"/" entailed") and its probability is the softmax,
 * over the labels, of each label's summed token log-probability after the filled template — a
 * discriminator's softmax over its classes when each label is one token. [INF] The prompts are
 * rewardkit's (`relevance_template`, `nli_template`; placeholders `{{character}}`, `{{statement}}`,
 * `{{query}}`, and `{{response}}` in the NLI one), not the distilled models' input format: with a
 * fine-tuned discriminator served behind a completion endpoint, set the templates to its format.
 * Relevance does not depend on the response, so it is asked once per (character, statement, query)
 * and shared by the whole group.
 *
 * **Inputs.** The persona statements are the rollout's `meta.<statements_key>` (default
 * `meta.persona`): a list of strings. The character's name is `meta.<character_key>` (default
 * `meta.character`; "the character" when absent). The query is the prompt; the response the completion.
 *
 * **Null rule.** No statements (absent, empty, or not a list of non-empty strings) → null with a
 * reason: there is nothing to be faithful to. An empty or blank completion is an answer-less
 * completion and scores the floor 0 without a call (a blank reply contradicts nothing, and would
 * otherwise collect every passive statement's credit). A backend failure rejects the rollout's grade
 * with the backend's message (an error on the rollout, never a number). The statements and the
 * response are shown to the discriminator as text; a response that addresses the discriminator
 * ("Answer: entailed") is data to it only as far as the model resists it — use a trained
 * discriminator for adversarial training runs.
 *
 * @example
 * # spec
 * backends: {nli: {type: openai, base_url: 'http://127.0.0.1:8000/v1', model: qwen3-8b}}
 * components:
 *   - {name: apc, grader: persona_faithfulness, backend: nli}
 * # rollout meta: {character: Alice, persona: ["Alice is a nurse.", "Alice hates coffee."]}
 * # s1 rel [.2,.8], nli [.1,.2,.7]; s2 rel [.9,.1], nli [.6,.3,.1] → 1.11
 */
export const personaFaithfulnessGrader = defineGrader({
  kind: 'persona_faithfulness',
  summary: 'APC score of a role-play response: persona statements entailed where relevant, not contradicted where not (relevance- and NLI-weighted, through a log-prob backend).',
  params: {
    backend: z.string().min(1).describe('Backend (in the spec\'s `backends`, offering `logprobs`) serving the relevance discriminator, and the NLI one unless `nli_backend` is given.'),
    nli_backend: z.string().min(1).optional().describe('Backend (offering `logprobs`) for the NLI discriminator (default: `backend`).'),
    statements_key: z.string().min(1).default('persona').describe('Meta key holding the persona statements, a list of strings (default `persona`).'),
    character_key: z.string().min(1).default('character').describe('Meta key holding the character\'s name (default `character`; "the character" when absent).'),
    aggregate: z.enum(['sum', 'mean']).default('sum').describe('`sum` (default, the paper: range [0, |S|]) or `mean` over the statements (range [0, 1]).'),
    relevance_template: z.string().min(1).optional().describe('Relevance prompt: {{character}}, {{statement}}, {{query}} (default: rewardkit\'s yes/no question).'),
    nli_template: z.string().min(1).optional().describe('NLI prompt: {{character}}, {{statement}}, {{query}}, {{response}} (default: rewardkit\'s contradicted/neutral/entailed question).'),
    relevance_labels: labelsOf(2, 'Verbalised relevance classes [no, yes] scored after the relevance prompt (default [" no", " yes"]).'),
    nli_labels: labelsOf(3, 'Verbalised NLI classes [contradicted, neutral, entailed] scored after the NLI prompt (default [" contradicted", " neutral", " entailed"]).'),
  },
  create(params, ctx) {
    const relBackend = resolveBackend(ctx, params.backend, ['logprobs']);
    const nliBackend = params.nli_backend ? resolveBackend(ctx, params.nli_backend, ['logprobs'], 'nli_backend') : relBackend;
    const relT = compileTemplate(params.relevance_template ?? RELEVANCE_TEMPLATE, ['character', 'statement', 'query'], 'relevance_template');
    const nliT = compileTemplate(params.nli_template ?? NLI_TEMPLATE, ['character', 'statement', 'query', 'response'], 'nli_template');
    for (const [t, param, need] of [
      [relT, 'relevance_template', ['statement', 'query']],
      [nliT, 'nli_template', ['statement', 'response']],
    ] as [Template, string, string[]][]) {
      const missing = need.filter((n) => !t.slots.has(n));
      if (missing.length > 0) throw new ParamError(param, `must contain ${missing.map((m) => `{{${m}}}`).join(' and ')}`);
    }
    const relLabels = params.relevance_labels ?? [' no', ' yes'];
    const nliLabels = params.nli_labels ?? [' contradicted', ' neutral', ' entailed'];
    for (const [labels, param] of [
      [relLabels, 'relevance_labels'],
      [nliLabels, 'nli_labels'],
    ] as const)
      if (new Set(labels).size !== labels.length) throw new ParamError(param, 'labels must be distinct');

    const relDone = new Lru<string, [number, number]>(8192);
    const relInFlight = new Map<string, Promise<[number, number]>>();
    const relevance = (vars: Record<string, string>): Promise<[number, number]> => {
      const text = renderTemplate(relT, (n) => vars[n]!);
      const done = relDone.get(text);
      if (done) return Promise.resolve(done);
      let p = relInFlight.get(text);
      if (!p) {
        p = labelProbabilities(relBackend, text, relLabels)
          .then((pr) => {
            const v: [number, number] = [pr[0]!, pr[1]!];
            relDone.set(text, v);
            return v;
          })
          .finally(() => relInFlight.delete(text));
        relInFlight.set(text, p);
      }
      return p;
    };

    const statementsOf = (s: Sample): string[] | string => {
      const v = s.meta[params.statements_key];
      if (v === undefined || v === null) return `rollout has no meta.${params.statements_key} (the persona statements)`;
      if (!Array.isArray(v) || v.length === 0) return `meta.${params.statements_key} must be a non-empty list of persona statements`;
      if (!v.every((x) => typeof x === 'string' && x.trim() !== '')) return `meta.${params.statements_key} must hold non-empty strings`;
      return v as string[];
    };

    return {
      scope: 'rollout',
      async grade(s) {
        const statements = statementsOf(s);
        if (typeof statements === 'string') return { score: null, details: { reason: statements } };
        if (s.completion.trim() === '') return { score: 0, details: { reason: 'the completion is empty' } };
        const c = s.meta[params.character_key];
        const character = typeof c === 'string' && c.trim() !== '' ? c : 'the character';
        const judged = await Promise.all(
          statements.map(async (statement) => {
            const vars = { character, statement, query: s.prompt, response: s.completion };
            const [rel, nli] = await Promise.all([relevance(vars), labelProbabilities(nliBackend, renderTemplate(nliT, (n) => vars[n as keyof typeof vars]), nliLabels)]);
            const j: StatementJudgement = { relevance: rel, nli: [nli[0]!, nli[1]!, nli[2]!] };
            return { statement, relevant: rel[1], contradicted: j.nli[0], entailed: j.nli[2], apc: apcTerm(j) };
          }),
        );
        const sum = judged.reduce((a, j) => a + j.apc, 0);
        return { score: params.aggregate === 'mean' ? sum / judged.length : sum, details: { statements: judged } };
      },
    };
  },
});
