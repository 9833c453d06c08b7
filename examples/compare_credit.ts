/**
 * Compares three step-level credit methods on the multi-turn example: for each rollout kind, the
 * step rewards and the step advantages each method assigns. Run: `npx tsx examples/compare_credit.ts`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScorer } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const rollouts = readFileSync(join(here, 'agent_rollouts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Record<string, unknown>)
  .filter((r) => r.group === 'stock');
const fmt = (xs: (number | null | undefined)[]) => `[${xs.map((x) => (typeof x === 'number' ? +x.toFixed(2) : 'null')).join(', ')}]`;

console.log('| spec | rollout | episode reward | step rewards | step advantages |');
console.log('|---|---|---:|---|---|');
for (const name of ['agent_outcome', 'agent_dense', 'agent_gated']) {
  const scorer = createScorer(join(here, `${name}.yaml`));
  const { results } = await scorer.score(rollouts);
  for (const r of results) {
    const steps = (r.steps ?? []) as { reward?: number | null; advantage?: number | null }[];
    const kind = (r.meta as { kind: string }).kind;
    console.log(`| ${name}.yaml | ${kind} | ${r.reward} | ${fmt(steps.map((s) => s.reward))} | ${fmt(steps.map((s) => s.advantage))} |`);
  }
  await scorer.close();
}
