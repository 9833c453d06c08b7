/**
 * Intrinsic rewards for the tabular learners ({@link qLearning}'s `bonus` hook):
 *
 * - {@link countBonus} — count-based exploration over hashed states (MBIE-EB / "#Exploration" style):
 *   b = β / √N(h(s′)), N the lifelong visit count of the next state's hash (for a tabular state the hash
 *   is the state id; a coarser hash merges states).
 * - {@link oniBonus} — ONI-style event rewards (Zheng et al., "Online Intrinsic Rewards for Decision
 *   Making Agents from Large Language Model Feedback"; facebookresearch/oni, ONI-Retrieval): a hash
 *   table message → label from an LLM judge; a message never labelled yet pays 0 and is queued, and the
 *   queue is labelled at the end of each episode (the asynchronous labeller of the paper, made
 *   deterministic). The bonus is `coeff · label · N_ep(msg)^(−β)`, N_ep the episodic count of the
 *   message (β = 3, the reference code's `beta_count_exponent`, mechanics-B §15).
 */
import type { Backend } from '../../backends/types.js';

/**
 * Count-based bonus β/√N(h(s′)) with lifelong counts (N includes this visit). The counts are over
 * `S` hash values.
 *
 * @example
 * const b = countBonus(m.S, 0.1); // qLearning(..., { bonus: b.bonus })
 */
export function countBonus(S: number, beta: number, hash: (s: number) => number = (s) => s): { bonus: (s: number, a: number, s2: number) => number; counts: Uint32Array } {
  if (!(beta >= 0)) throw new RangeError(`countBonus: beta must be ≥ 0, got ${beta}`);
  const counts = new Uint32Array(S);
  return {
    counts,
    bonus: (_s, _a, s2) => {
      const h = hash(s2);
      const n = ++counts[h];
      return beta / Math.sqrt(n);
    },
  };
}

/** Labels messages for a task: 1 (progress), 0 (not), or null (cannot judge: pays nothing). */
export type MessageLabeller = (task: string, messages: readonly string[]) => Promise<(0 | 1 | null)[]>;

/** Options of {@link oniBonus}. */
export interface OniOptions {
  /** Weight of the intrinsic reward (the reference's `llm_reward_coeff`). */
  coeff: number;
  /** Exponent of the episodic count decay N^(−β). Default 3. */
  beta?: number;
}

/**
 * The ONI-Retrieval bonus over a transition → message table (`message[s·A + a]`, −1 for none; the
 * episodic counts restart when the learner reports step t = 0). Returns the `bonus` and `onEpisodeEnd`
 * hooks of {@link qLearning} and the label table (message id → label, once labelled).
 */
export function oniBonus(
  message: Int32Array,
  A: number,
  texts: readonly string[],
  task: string,
  labeller: MessageLabeller,
  o: OniOptions,
): {
  bonus: (s: number, a: number, s2: number, t: number) => number;
  onEpisodeEnd: () => Promise<void>;
  labels: Map<number, 0 | 1 | null>;
  calls: () => number;
} {
  if (!(o.coeff >= 0)) throw new RangeError(`oniBonus: coeff must be ≥ 0, got ${o.coeff}`);
  const beta = o.beta ?? 3;
  const labels = new Map<number, 0 | 1 | null>();
  const queued = new Set<number>();
  const epCount = new Uint32Array(texts.length);
  let calls = 0;
  return {
    labels,
    calls: () => calls,
    bonus: (s, a, _s2, t) => {
      if (t === 0) epCount.fill(0);
      const id = message[s * A + a];
      if (id < 0) return 0;
      const n = ++epCount[id];
      const label = labels.get(id);
      if (label === undefined) {
        queued.add(id);
        return 0;
      }
      return label === 1 ? o.coeff * n ** -beta : 0;
    },
    onEpisodeEnd: async () => {
      if (queued.size === 0) return;
      const ids = [...queued].sort((x, y) => x - y);
      queued.clear();
      calls++;
      const got = await labeller(
        task,
        ids.map((i) => texts[i]),
      );
      if (got.length !== ids.length) throw new Error(`ONI labeller returned ${got.length} labels for ${ids.length} messages`);
      ids.forEach((id, i) => labels.set(id, got[i]));
    },
  };
}

/** The judge's prompt for one message (exported so tests and docs show it). */
export function oniPrompt(task: string, message: string): string {
  return (
    `An agent is playing a text adventure. Its task: ${task}\n` +
    `The game just printed this event: "${message}"\n` +
    'Is this event progress towards completing the task? Answer with the single digit 1 (yes) or 0 (no).'
  );
}

/** Reads a 0/1 label from a judge reply: the first standalone 0 or 1; anything else is null (cannot judge). */
export function parseOniLabel(text: string): 0 | 1 | null {
  const m = /(?:^|[^0-9.])([01])(?![0-9.])/.exec(text.trim());
  return m ? (m[1] === '1' ? 1 : 0) : null;
}

/**
 * A {@link MessageLabeller} asking a chat backend one question per message (temperature 0), in
 * parallel. A reply without a 0/1 label is null (pays nothing); a failed call rejects with the
 * backend's error, naming the backend.
 *
 * @example
 * const label = judgeLabeller(built.resolver.get('judge', ['chat']));
 */
export function judgeLabeller(backend: Backend): MessageLabeller {
  return async (task, messages) =>
    Promise.all(
      messages.map(async (m) => {
        try {
          const r = await backend.chat({ messages: [{ role: 'user', content: oniPrompt(task, m) }], max_tokens: 4, temperature: 0 });
          return parseOniLabel(r.text);
        } catch (e) {
          throw new Error(`ONI judge backend "${backend.name}" failed to label "${m}": ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      }),
    );
}
