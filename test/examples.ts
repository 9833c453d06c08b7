import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rollout } from '../src/rollout/types.js';
import { ROOT } from './cli.js';

/** The bundled examples folder. */
export const EXAMPLES = join(ROOT, 'examples');

/** The example rollouts each bundled training spec is written for (the `eval/` specs take other data). */
export const EXAMPLE_ROLLOUTS: Readonly<Record<string, string>> = {
  'agent_dense.yaml': 'agent_rollouts.jsonl',
  'agent_gated.yaml': 'agent_rollouts.jsonl',
  'agent_outcome.yaml': 'agent_rollouts.jsonl',
  'gated.yaml': 'gsm8k_rollouts.jsonl',
  'gdpo.yaml': 'gsm8k_rollouts.jsonl',
  'gsm8k.yaml': 'gsm8k_rollouts.jsonl',
  'hierarchical.yaml': 'gsm8k_rollouts.jsonl',
  'local_model.yaml': 'gsm8k_rollouts.jsonl',
  'tool_json.yaml': 'tool_json_rollouts.jsonl',
};

/** Reads an example JSONL file of rollouts. */
export function readExampleRollouts(file: string): Rollout[] {
  return readFileSync(join(EXAMPLES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Rollout);
}
