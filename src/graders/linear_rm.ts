import { isAbsolute, resolve } from 'node:path';
import * as z from 'zod';
import { ParamError, defineGrader } from './types.js';
import { ModelFileError, readModelFile, scoreText } from '../rm/train.js';
import { sigmoid } from '../evaluate/stats.js';

/**
 * `linear_rm` — the score of a local linear reward model trained by `rewardkit rm train` (Bradley–Terry
 * on hashed n-gram features, with the margin and label-smoothing losses of "Secrets of RLHF in Large
 * Language Models Part II"; see src/rm/train.ts): r = b + w·φ(completion), φ = the model file's
 * hashed features of the completion text (the assistant messages' text for a chat). The prompt does
 * not enter: in a linear model a prompt-only feature cancels between two answers to the same prompt.
 *
 * The `reward_model` grader needs a model server (a backend with the `reward` operation); this kind
 * reads a JSON model file and scores in process, with no backend. `sigmoid: true` maps r to σ(r) ∈ (0, 1),
 * the model's probability that the answer beats one scoring 0. Never null: an empty completion scores
 * b (its features are empty), which the model has learned nothing in favour of. The model file is
 * read once, when the spec compiles; a missing or invalid file is a spec error naming `model`.
 *
 * @example
 * # rewardkit rm train -i pairs.jsonl -o polite.rm.json
 * # spec
 * - {name: rm, grader: linear_rm, model: polite.rm.json}
 * # → b + w·φ(completion) for each rollout
 */
export const linearRmGrader = defineGrader({
  kind: 'linear_rm',
  summary: 'Score of a local linear reward model from `rewardkit rm train` (Bradley–Terry on hashed n-grams), optionally through a sigmoid.',
  params: {
    model: z.string().min(1).describe('Path of the model file written by `rewardkit rm train` (relative to the spec file).'),
    sigmoid: z.boolean().default(false).describe('Report σ(r) ∈ (0, 1) instead of the raw linear score r (default false).'),
  },
  create(params, ctx) {
    const path = isAbsolute(params.model) ? params.model : resolve(ctx.specDir, params.model);
    let m;
    try {
      m = readModelFile(path);
    } catch (e) {
      if (e instanceof ModelFileError) throw new ParamError('model', `${path}: ${e.message}`);
      throw e;
    }
    const model = m;
    return {
      scope: 'rollout',
      grade(sample) {
        const r = scoreText(model, sample.completion);
        return params.sigmoid ? sigmoid(r) : r;
      },
    };
  },
});
