import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { HttpError, kindOf } from '../errors.js';
import type { Rollout } from '../../rollout/types.js';
import type { SpecEntry } from '../specs.js';
import { neutralRewards } from '../../advantage/neutral.js';

/**
 * `POST /get_reward` — OpenRLHF's remote reward protocol (`--reward.remote_url`).
 *
 * Request, as OpenRLHF's single-turn executor posts it (aiohttp `json=`):
 * `{"query": [...], "prompts": [...], "labels": [...]}` where each query is the prompt and the
 * response decoded together (special tokens kept), each prompt the prompt text and each label the
 * dataset's label. Response: `{"rewards": [...], "scores": [...], "extra_logs": {...}}`:
 * - `rewards`: the spec's reward per query. A null reward (the spec cannot judge the query) must not
 *   move the policy, and OpenRLHF cannot take a null: it gets the mean of the judged rewards of its
 *   group (the queries of the same prompt), so its advantage under OpenRLHF's group estimators
 *   (`group_norm` = GRPO, `dr_grpo`, `rloo`, `reinforce_baseline`) is 0; a group with no judged query
 *   gets the configured null reward (default 0) throughout — a constant group, advantage 0. Without
 *   `prompts`, the request is one group. Not neutral under `reinforce_plus_plus` without a baseline
 *   (batch whitening): see docs/null-rewards.md;
 * - `scores`: in [0, 1] for OpenRLHF's dynamic filtering — the reward sent clamped to [0, 1], or the
 *   configured score component's value clamped;
 * - `extra_logs`: one list per key, one number per query (OpenRLHF turns each into a tensor per
 *   sample and logs its mean): `rk/<component>` (null → 0), `rk_meta/error` (1 when a grader failed
 *   on the query), `rk_meta/null_reward` (1 when the reward was null and a neutral value was sent),
 *   `rk_meta/judged` (its complement), `rk_meta/prefix_mismatch` (component names are identifiers,
 *   so the two namespaces never clash). Their means in the trainer's logger are the
 *   per-component means, the error rate, the null-reward rate, the judged rate and the
 *   prefix-mismatch rate. `rewardkit_neutral_rewards_total{route, kind}` counts the substitutions.
 *
 * The response scored is the query minus its prompt prefix, with trailing end-of-sequence markers
 * stripped. A query that does not start with its prompt is scored from just after the prompt when
 * the prompt occurs later in it (`offset`), else as a whole (`absent`); either way `rk_meta/prefix_mismatch`
 * is 1 and `rewardkit_openrlhf_prefix_mismatch_total{kind}` counts it.
 *
 * The spec: `?spec=NAME`, else the server's default spec. OpenRLHF cannot send headers, so with a
 * token the URL carries it: `--reward.remote_url 'http://host:8000/get_reward?token=T'`.
 */

interface OpenRlhfBody {
  query: string[];
  prompts: string[] | undefined;
  labels: unknown[] | undefined;
}

function stringList(v: unknown, key: string, n: number | undefined): string[] {
  if (!Array.isArray(v)) throw new HttpError(422, `expected a list of strings, got ${kindOf(v)}`, key);
  if (n !== undefined && v.length !== n) throw new HttpError(422, `has ${v.length} items but query has ${n}`, key);
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') throw new HttpError(422, `expected a string, got ${kindOf(v[i])}`, `${key}[${i}]`);
  return v as string[];
}

/** Checks an OpenRLHF request body (unknown keys are ignored, as OpenRLHF's own server does). */
export function checkOpenRlhfBody(body: unknown): OpenRlhfBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(422, `expected a JSON object {query, prompts, labels}, got ${kindOf(body)}`, '');
  const b = body as Record<string, unknown>;
  if (b.query === undefined) throw new HttpError(422, 'is required (a list of prompt+response strings)', 'query');
  const query = stringList(b.query, 'query', undefined);
  if (query.length === 0) throw new HttpError(422, 'empty batch: send at least one query', 'query');
  const prompts = b.prompts === undefined || b.prompts === null ? undefined : stringList(b.prompts, 'prompts', query.length);
  let labels: unknown[] | undefined;
  if (b.labels !== undefined && b.labels !== null) {
    if (!Array.isArray(b.labels)) throw new HttpError(422, `expected a list, got ${kindOf(b.labels)}`, 'labels');
    if (b.labels.length !== query.length) throw new HttpError(422, `has ${b.labels.length} items but query has ${query.length}`, 'labels');
    labels = b.labels;
  }
  return { query, prompts, labels };
}

/** How a query's response was cut out of it. */
export type PrefixMatch = 'exact' | 'offset' | 'absent' | 'no_prompt';

/** The response part of `query` (prompt prefix removed, EOS markers stripped) and how it was found. */
export function splitQuery(query: string, prompt: string | undefined, suffixes: readonly string[]): { response: string; match: PrefixMatch } {
  let response: string;
  let match: PrefixMatch;
  if (prompt === undefined || prompt.length === 0) {
    response = query;
    match = 'no_prompt';
  } else if (query.startsWith(prompt)) {
    response = query.slice(prompt.length);
    match = 'exact';
  } else {
    const at = query.indexOf(prompt);
    if (at >= 0) {
      response = query.slice(at + prompt.length);
      match = 'offset';
    } else {
      response = query;
      match = 'absent';
    }
  }
  for (let changed = true; changed; ) {
    changed = false;
    const trimmed = response.trimEnd();
    for (const s of suffixes) {
      if (s.length > 0 && trimmed.endsWith(s)) {
        response = trimmed.slice(0, trimmed.length - s.length);
        changed = true;
      }
    }
  }
  return { response, match };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Registers `POST /get_reward`. */
export function registerOpenRlhfRoute(app: FastifyInstance, ctx: ServerContext): void {
  const o = ctx.options.openrlhf;
  app.post<{ Querystring: { spec?: string } }>('/get_reward', { config: { auth: 'query', scoring: true } }, async (req) => {
    const body = checkOpenRlhfBody(req.body);
    const specName = req.query.spec;
    const entry: SpecEntry = typeof specName === 'string' && specName.length > 0 ? ctx.specs.named(specName, 'query.spec') : ctx.specs.defaultEntry('query.spec');
    const n = body.query.length;
    req.rolloutCount = n;
    const mismatch = new Array<number>(n);
    const rollouts: Rollout[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const prompt = body.prompts?.[i];
      const { response, match } = splitQuery(body.query[i]!, prompt, o.stripSuffixes);
      if (match === 'offset' || match === 'absent') {
        mismatch[i] = 1;
        ctx.metrics.prefixMismatch.inc({ kind: match });
      } else mismatch[i] = 0;
      const r: Rollout = { id: String(i), completion: response };
      if (prompt !== undefined) r.prompt = prompt;
      if (body.labels) r.reference = body.labels[i];
      rollouts[i] = r;
    }
    if (ctx.options.logCompletions) req.log.info({ completions: rollouts.map((r) => r.completion) }, 'completions');
    const out = await ctx.service.score(rollouts, undefined, { parts: [{ entry, indices: rollouts.map((_, i) => i) }], gone: req.gone });
    const names = entry.compiled.names;
    const scoreKey = o.scoreComponent !== undefined && names.includes(o.scoreComponent) ? o.scoreComponent : undefined;
    const rewards = new Array<number>(n);
    const scores = new Array<number>(n);
    const logs: Record<string, number[]> = {};
    for (const name of names) logs[`rk/${name}`] = new Array(n);
    const errorCol = new Array<number>(n);
    const nullCol = new Array<number>(n);
    const judgedCol = new Array<number>(n);
    // One part holding every query in request order: the batch columns index like the queries.
    const cols = out.parts[0]!.batch.columns;
    const sent = neutralRewards(cols.rewards, cols.groupOf, cols.groupCount, o.nullReward);
    if (sent.groupMean > 0) ctx.metrics.neutralRewards.inc({ route: '/get_reward', kind: 'group_mean' }, sent.groupMean);
    if (sent.noJudged > 0) ctx.metrics.neutralRewards.inc({ route: '/get_reward', kind: 'no_judged_rollout' }, sent.noJudged);
    for (let i = 0; i < n; i++) {
      const r = out.results[i]!;
      const reward = sent.values[i]!;
      rewards[i] = reward;
      const s = scoreKey !== undefined ? (r.components[scoreKey] ?? 0) : reward;
      scores[i] = clamp01(s);
      for (const name of names) logs[`rk/${name}`]![i] = r.components[name] ?? 0;
      errorCol[i] = r.errors ? 1 : 0;
      nullCol[i] = sent.judged[i] ? 0 : 1;
      judgedCol[i] = sent.judged[i]!;
    }
    logs['rk_meta/error'] = errorCol;
    logs['rk_meta/null_reward'] = nullCol;
    logs['rk_meta/judged'] = judgedCol;
    logs['rk_meta/prefix_mismatch'] = mismatch;
    return { rewards, scores, extra_logs: logs };
  });
}
