import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { parse as parseYaml } from 'yaml';
import type { Sample } from '../rollout/types.js';
import { defineGrader, ParamError } from './types.js';
import { batchedEmbedder, resolveBackend } from './model_calls.js';
import { askJudge, JudgeAnswerError, type CallOptions } from './judge/ask.js';
import { answerFormat, type AnswerFormat } from './judge/parse.js';
import { judgeMessages, missingReason, sampleSlots, valueText } from './judge/prompt.js';
import { compileTemplate, requireSlots, type Template } from './judge/template.js';

/** One criterion of a persona rubric as the judge scored it: its weight for this user and its 1..N score. */
export interface ScoredCriterion {
  criterion: string;
  weight: number;
  score: number;
}

/**
 * The weighted overall score of one evaluation chain, Σ w·s / Σ w over the criteria, mapped from the
 * 1..`max` scale to [0, 1] by (x − 1)/(max − 1).
 *
 * @example
 * rubricScore([{ criterion: 'concise', weight: 0.6, score: 9 }, { criterion: 'warm', weight: 0.4, score: 4 }], 10)
 * // → (0.6·9 + 0.4·4 − 1)/9 = 0.6667
 */
export function rubricScore(items: readonly Pick<ScoredCriterion, 'weight' | 'score'>[], max: number): number {
  let num = 0;
  let den = 0;
  for (const it of items) {
    num += it.weight * it.score;
    den += it.weight;
  }
  return (num / den - 1) / (max - 1);
}

/**
 * P-GenRM's dual-granularity mix (Tongyi-ConvAI/Qwen-Character `Character-GenRM/prototype_learning/
 * proto_knn_scaler.py`): final = (c_self·s_self + c_nb·s_nb) / (c_self + c_nb) over the sides that
 * have a score, with c_self = 1 − λ and c_nb = λ (the authors' defaults 0.5/0.5, λ = 0.5). A side
 * without a score drops out and the other keeps full weight; no side → null.
 *
 * @example
 * mixPrototypeScore(0.75, 0.375, 0.5) // → 0.5625
 * mixPrototypeScore(0.75, 0.375, 0)   // → 0.75 (λ = 0: the individual score)
 * mixPrototypeScore(0.75, null, 0.5)  // → 0.75
 */
export function mixPrototypeScore(self: number | null, neighbors: number | null, lambda: number): number | null {
  let num = 0;
  let den = 0;
  if (self !== null && 1 - lambda > 0) {
    num += (1 - lambda) * self;
    den += 1 - lambda;
  }
  if (neighbors !== null && lambda > 0) {
    num += lambda * neighbors;
    den += lambda;
  }
  if (den > 0) return num / den;
  // A zero coefficient on the only side with a score: that side alone (the authors' uplift-only fallback).
  return self ?? neighbors;
}

/** One user of a prototype: an id, the preference history the judge is shown, and optionally its embedding. */
export interface PrototypeMember {
  user: string;
  history: string;
  embedding?: number[];
}

/** One user prototype (a cluster of users): an id, optionally its centroid, and its members. */
export interface Prototype {
  id: string;
  centroid?: number[];
  members: PrototypeMember[];
}

const vector = z.array(z.number().finite()).min(1);
const prototypesFileSchema = z.strictObject({
  prototypes: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        centroid: vector.optional(),
        members: z
          .array(
            z.strictObject({
              user: z.string().min(1),
              history: z.union([z.string().min(1), z.array(z.unknown()).min(1), z.record(z.string(), z.unknown())]),
              embedding: vector.optional(),
            }),
          )
          .min(1),
      }),
    )
    .min(1),
});

function unit(v: readonly number[]): number[] {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  if (!(n > 0)) throw new Error('a zero-length embedding cannot be compared');
  return v.map((x) => x / n);
}

function dot(a: readonly number[], b: readonly number[], what: string): number {
  if (a.length !== b.length) throw new Error(`${what}: embedding dimensions differ (${a.length} vs ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** A prototype with unit-length vectors: its centroid and each member's embedding. */
export interface IndexedPrototype {
  id: string;
  centroid: number[];
  members: (PrototypeMember & { unit: number[] })[];
}

/**
 * Unit-length vectors of every prototype: members' embeddings normalised, the centroid given or the
 * normalised mean of its members' unit embeddings.
 *
 * @example
 * indexPrototypes([{ id: 'p', members: [{ user: 'a', history: 'h', embedding: [3, 4] }] }])[0].centroid // → [0.6, 0.8]
 */
export function indexPrototypes(protos: readonly Prototype[]): IndexedPrototype[] {
  return protos.map((p) => {
    const members = p.members.map((m) => {
      if (!m.embedding) throw new Error(`prototype ${p.id}: member ${m.user} has no embedding`);
      return { ...m, unit: unit(m.embedding) };
    });
    let centroid = p.centroid;
    if (!centroid) {
      centroid = new Array<number>(members[0]!.unit.length).fill(0);
      for (const m of members) {
        if (m.unit.length !== centroid.length) throw new Error(`prototype ${p.id}: embedding dimensions differ (${m.unit.length} vs ${centroid.length})`);
        for (let i = 0; i < centroid.length; i++) centroid[i]! += m.unit[i]!;
      }
    }
    return { id: p.id, centroid: unit(centroid), members };
  });
}

/**
 * The authors' neighbour search (`proto_knn_scaler.py`): the prototype whose centroid is most similar
 * (cosine) to the user's history embedding `q`, then its `k` members most similar to `q`, best first.
 * Members with the user's own id (`exclude`) are left out — rewardkit's choice, so a user is never
 * their own neighbour.
 *
 * @example
 * nearestNeighbors([1, 0], index, 2) // → {prototype: 'p0', members: [{user: 'a', similarity: 0.99, …}, …]}
 */
export function nearestNeighbors(
  q: readonly number[],
  index: readonly IndexedPrototype[],
  k: number,
  exclude?: string,
): { prototype: string; members: (PrototypeMember & { similarity: number })[] } {
  const qu = unit(q);
  let best = 0;
  let bestSim = -Infinity;
  index.forEach((p, i) => {
    const s = dot(p.centroid, qu, `prototype ${p.id}`);
    if (s > bestSim) {
      bestSim = s;
      best = i;
    }
  });
  const proto = index[best]!;
  const members = proto.members
    .filter((m) => m.user !== exclude)
    .map((m) => ({ user: m.user, history: m.history, similarity: dot(m.unit, qu, `prototype ${proto.id}, member ${m.user}`) }))
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
  return { prototype: proto.id, members };
}

/** The judge's evaluation chain: a persona of the user and the rubric it derived, each criterion weighted and scored. */
export function chainFormat(max: number): AnswerFormat<{ persona: string; rubric: ScoredCriterion[] }> {
  return answerFormat(
    'persona_rubric',
    z.strictObject({
      persona: z.string().min(1),
      rubric: z
        .array(z.strictObject({ criterion: z.string().min(1), weight: z.number().positive().max(100), score: z.number().int().min(1).max(max) }))
        .min(1)
        .max(12),
    }),
    `Reply with only a JSON object {"persona": "<one or two sentences about the user>", "rubric": [{"criterion": "<what this user cares about here>", "weight": <positive number: how much it matters to the user>, "score": <integer 1-${max}>}, …]} with 1 to 12 criteria, and no other text.`,
  );
}

const SYSTEM =
  'You are a personalized reward model. From the user\'s preference history (their earlier choices between responses, and anything they said about their tastes), ' +
  'infer who this user is and what they want in the current scenario: write a short persona, then a scoring rubric of the criteria this user would judge a response by here, ' +
  'each weighted by how much it matters to this user. Then score the candidate response on each criterion as this user would, judging what the response actually does, ' +
  'not what it claims about itself.';

const TEMPLATE = "User's preference history:\n{{history}}\n\nCurrent user input:\n{{prompt}}\n\nCandidate response:\n{{completion}}";

/**
 * `persona_rubric` — P-GenRM ("P-GenRM: Personalized Generative Reward Model with Test-time
 * User-based Scaling", Zhang et al., ICLR 2026): a generative reward model judges a response for one
 * user through an evaluation chain — from the user's preference signals it derives a persona and a
 * scoring rubric for the scenario (criteria with weights), scores each criterion, and takes the
 * weighted overall score. Here the judge is a chat backend answering the chain as JSON
 * (`{persona, rubric: [{criterion, weight, score}]}`, checked with zod); the overall score
 * Σ w·s / Σ w is computed by rewardkit (never the judge's arithmetic) and mapped from 1..`scale_max`
 * (default 10, the authors' data scores out of 10) to [0, 1].
 *
 * **Test-time user-based scaling [SRC]** (Tongyi-ConvAI/Qwen-Character, `Character-GenRM/
 * prototype_learning`): individual level, `samples` evaluation chains (default 4, the authors'
 * `self_runs`) are sampled at `temperature` (default 1) with distinct seeds and averaged over the
 * chains that parse (an unusable chain is dropped, as the authors drop it; all unusable → an error);
 * prototype level, with a `prototypes` file, the user's history is embedded (`embed_backend`), the
 * nearest prototype by cosine to its centroid is taken, and within it the `neighbors` most similar
 * members (default 4); the same response is scored once with each neighbour's history in place of the
 * user's, and those scores are averaged. Final = (1 − λ)·s_self + λ·s_neighbors with λ =
 * `prototype_weight` (default 0.5: the authors' coef_self = coef_neighbors = 0.5), renormalised over
 * the sides that have a score. λ = 0 is the individual score alone. Clustering users into prototypes
 * (the paper: K-means over history embeddings, refined by attention) is done beforehand; the file is
 * its output (format below). rewardkit scores one response per call (the authors' judge compares a
 * pair in one call); the judge prompt and answer format are rewardkit's, not the trained model's.
 *
 * Prototypes file (JSON or YAML, relative to the spec): `{prototypes: [{id, centroid?, members:
 * [{user, history, embedding?}]}]}` — a member without an embedding is embedded with `embed_backend`
 * on first use; a prototype without a centroid uses the normalised mean of its members' vectors. A
 * member whose `user` equals the rollout's `meta.<user_key>` is not its own neighbour.
 *
 * **Inputs.** The user's preference history is `meta.<history_key>` (default `meta.user_history`: a
 * text, or any JSON value shown as JSON). The template (default: history, the user input and the
 * response) takes {{history}}, {{prompt}}, {{completion}} (required) and {{meta.<key>}}; data are fenced
 * as in `judge`.
 *
 * **Null rule.** No history → null with a reason (a personalized reward has no user to follow). An
 * empty or blank completion → 0 (the floor) without a call. A backend failure (judge or embedding)
 * rejects the rollout's grade with the backend's message; a judge answer that stays unusable after
 * `parse_retries` drops that chain, and no usable self chain at all is an error, never a default
 * score. Because every unusable chain is dropped, a completion that derails the judge on some chains
 * is scored on the others — the same as the authors; keep `samples` small against such attacks.
 *
 * @example
 * # spec
 * backends: {genrm: {type: openai, base_url: 'http://127.0.0.1:8000/v1', model: P-GenRM-8B}, enc: {type: openai, base_url: 'http://127.0.0.1:8001/v1', model: Qwen3-Embedding-0.6B}}
 * components:
 *   - {name: personal, grader: persona_rubric, backend: genrm, embed_backend: enc, prototypes: protos.json}
 * # self chains 0.75, 0.5, 1, 0.75 → 0.75; neighbours 0.25, 0.5 → 0.375; λ 0.5 → 0.5625
 */
export const personaRubricGrader = defineGrader({
  kind: 'persona_rubric',
  summary: 'P-GenRM personalized generative RM: persona + weighted rubric from the user\'s history, averaged over sampled chains and mixed with similar users\' (prototype) scores.',
  params: {
    backend: z.string().min(1).describe('Chat backend (in the spec\'s `backends`) serving the generative reward model.'),
    history_key: z.string().min(1).default('user_history').describe('Meta key of the user\'s preference history (default `user_history`).'),
    user_key: z.string().min(1).default('user').describe('Meta key of the user id, so a user is never their own neighbour (default `user`).'),
    samples: z.number().int().min(1).max(64).default(4).describe('Individual-level scaling: evaluation chains sampled per response and averaged (default 4, the authors\' self_runs).'),
    temperature: z.number().min(0).max(2).default(1).describe('Sampling temperature of the chains (default 1; must be > 0 when samples > 1).'),
    seed: z.number().int().min(0).default(0).describe('Seed of the first chain; chain i uses seed + i (default 0).'),
    prototypes: z.string().min(1).optional().describe('Prototype-level scaling: file (JSON or YAML, relative to the spec) of user prototypes {prototypes: [{id, centroid?, members: [{user, history, embedding?}]}]}.'),
    embed_backend: z.string().min(1).optional().describe('Backend offering `embed`, for the user\'s history (and members without an embedding); required with `prototypes`.'),
    neighbors: z.number().int().min(1).max(64).default(4).describe('Prototype members whose histories score the response (default 4, the authors\' --neighbors).'),
    prototype_weight: z.number().min(0).max(1).default(0.5).describe('λ: weight of the neighbours\' mean score against the user\'s own (default 0.5, the authors\' coefficients).'),
    scale_max: z.number().int().min(2).max(100).default(10).describe('Top of the 1..N criterion scale (default 10).'),
    template: z.string().min(1).optional().describe('User message template: {{history}}, {{prompt}}, {{completion}} (required), {{meta.<key>}}.'),
    system: z.string().min(1).optional().describe('System message replacing the default (no placeholders). The fence notice and the answer format are always appended.'),
    max_tokens: z.number().int().min(16).max(131_072).default(2048).describe('Token limit of each chain (default 2048).'),
    parse_retries: z.number().int().min(0).max(10).default(2).describe('Re-asks after an unusable chain before it is dropped (default 2).'),
    strip_think: z.boolean().default(false).describe('Drop one leading <think>…</think> block from answers.'),
  },
  create(params, ctx) {
    const backend = resolveBackend(ctx, params.backend, ['chat']);
    if (params.samples > 1 && params.temperature === 0) throw new ParamError('temperature', `must be > 0 when samples > 1 (${params.samples} chains at temperature 0 are one chain repeated)`);
    if (params.system !== undefined && /\{\{[^{}]*\}\}/.test(params.system)) throw new ParamError('system', 'takes no placeholders; put {{…}} in `template`');
    const template: Template = compileTemplate(params.template ?? TEMPLATE, ['history', 'prompt', 'completion', 'meta'], 'template');
    requireSlots(template, ['history', 'completion'], 'template');
    const format = chainFormat(params.scale_max);
    const call = (seed: number): CallOptions => ({ max_tokens: params.max_tokens, temperature: params.temperature, parse_retries: params.parse_retries, strip_think: params.strip_think, seed });

    let protos: Prototype[] | null = null;
    let embed: ((text: string) => Promise<number[]>) | null = null;
    if (params.prototypes !== undefined) {
      if (params.embed_backend === undefined) throw new ParamError('embed_backend', 'is required with `prototypes` (the user\'s history is embedded to find the nearest prototype)');
      protos = loadPrototypes(resolve(ctx.specDir, params.prototypes));
      embed = batchedEmbedder(resolveBackend(ctx, params.embed_backend, ['embed'], 'embed_backend'), 64);
    } else if (params.embed_backend !== undefined) throw new ParamError('embed_backend', 'only applies with `prototypes`');

    // Member embeddings the file lacks are computed once; a failure is retried by the next rollout.
    let index: Promise<IndexedPrototype[]> | null = null;
    const indexed = (): Promise<IndexedPrototype[]> => {
      index ??= Promise.all(protos!.map(async (p) => ({ ...p, members: await Promise.all(p.members.map(async (m) => ({ ...m, embedding: m.embedding ?? (await embed!(m.history)) }))) }))).then(indexPrototypes);
      index.catch(() => {
        index = null;
      });
      return index;
    };

    /** One chain's overall score, or null when the judge's answer stayed unusable. */
    const chain = async (s: Sample, history: string, seed: number): Promise<{ score: number; persona: string } | null> => {
      const messages = judgeMessages({
        system: params.system ?? SYSTEM,
        instruction: format.instruction,
        template,
        slot: sampleSlots(s, { history: { data: [{ label: 'history', text: history }] } }),
      });
      if ('missing' in messages) throw new JudgeAnswerError(missingReason(messages.missing));
      try {
        const a = await askJudge(backend, messages, format, call(seed));
        return { score: rubricScore(a.value.rubric, params.scale_max), persona: a.value.persona };
      } catch (e) {
        if (e instanceof JudgeAnswerError) return null;
        throw e;
      }
    };
    const mean = (xs: (number | null)[]) => {
      const v = xs.filter((x): x is number => x !== null);
      return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
    };

    return {
      scope: 'rollout',
      async grade(s) {
        const history = valueText(s.meta[params.history_key]);
        if (history === undefined || history.trim() === '') return { score: null, details: { reason: `rollout has no meta.${params.history_key} (the user's preference history)` } };
        if (s.completion.trim() === '') return { score: 0, details: { reason: 'the completion is empty' } };
        const slots = sampleSlots(s, { history });
        for (const slot of template.slots) if (slots(slot) === undefined) return { score: null, details: { reason: missingReason(slot) } };

        const user = valueText(s.meta[params.user_key]);
        const selfP = Promise.all(Array.from({ length: params.samples }, (_, i) => chain(s, history, params.seed + i)));
        const nbP = protos
          ? (async () => {
              const q = await embed!(history);
              const near = nearestNeighbors(q, await indexed(), params.neighbors, user);
              const scores = await Promise.all(near.members.map((m) => chain(s, m.history, params.seed)));
              return { prototype: near.prototype, users: near.members.map((m) => m.user), scores };
            })()
          : Promise.resolve(null);
        const [selfChains, nb] = await Promise.all([selfP, nbP]);
        const selfScores = selfChains.map((c) => c?.score ?? null);
        const self = mean(selfScores);
        if (self === null) throw new JudgeAnswerError(`no usable evaluation chain in ${params.samples} sample${params.samples === 1 ? '' : 's'}`);
        const nbScores = nb ? nb.scores.map((c) => c?.score ?? null) : [];
        const nbMean = nb ? mean(nbScores) : null;
        const score = mixPrototypeScore(self, nbMean, nb ? params.prototype_weight : 0)!;
        return {
          score,
          details: {
            self,
            self_scores: selfScores,
            persona: selfChains.find((c) => c !== null)!.persona,
            ...(nb ? { prototype: nb.prototype, neighbors: nb.users, neighbor_scores: nbScores, neighbor_mean: nbMean } : {}),
          },
        };
      },
    };
  },
});

/** Reads and checks a prototypes file; errors are {@link ParamError}s on `prototypes` naming the path. */
function loadPrototypes(path: string): Prototype[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ParamError('prototypes', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = prototypesFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ParamError('prototypes', `${path}: ${i.path.map(String).join('.') || '(file)'}: ${i.message}`);
  }
  return r.data.prototypes.map((p) => ({
    id: p.id,
    ...(p.centroid ? { centroid: p.centroid } : {}),
    members: p.members.map((m) => ({ user: m.user, history: valueText(m.history)!, ...(m.embedding ? { embedding: m.embedding } : {}) })),
  }));
}
