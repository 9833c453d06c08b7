import { BackendError, type Backend, type BackendOp, type BackendResolver, type BackendStats, type Transport } from './types.js';

function emptyStats(): BackendStats {
  return { requests: 0, cache_hits: 0, calls: 0, retries: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 };
}

/**
 * A {@link Backend} over plain functions, without cache, retries or limits: for grader tests and for
 * library users who compute model outputs themselves. Each call is counted; a function that throws
 * makes the call reject with a {@link BackendError}.
 *
 * @example
 * const b = functionBackend('judge', { chat: async () => ({ text: '{"score": 3}' }) });
 * await b.chat({ messages: [{ role: 'user', content: 'hi' }] }) // → { text: '{"score": 3}' }
 */
export function functionBackend(name: string, fns: Omit<Transport, 'type' | 'model'>, model = 'fake'): Backend {
  let st = emptyStats();
  const signal = new AbortController().signal;
  async function run<T>(op: BackendOp, f: ((signal: AbortSignal) => Promise<T>) | undefined): Promise<T> {
    st.requests++;
    if (!f) throw new BackendError(`backend "${name}" does not offer ${op}`, { backend: name, op, retryable: false });
    st.calls++;
    try {
      return await f(signal);
    } catch (e) {
      st.errors++;
      if (e instanceof BackendError) throw e;
      throw new BackendError(e instanceof Error ? e.message : String(e), { backend: name, op, retryable: false, cause: e });
    }
  }
  return {
    name,
    type: 'function',
    model,
    supports: (op) => typeof fns[op] === 'function',
    chat: (req) => run('chat', fns.chat && ((s) => fns.chat!(req, s))),
    logprobs: (req) => run('logprobs', fns.logprobs && ((s) => fns.logprobs!(req, s))),
    embed: async (texts) => (await run('embed', fns.embed && ((s) => fns.embed!(texts, s)))).vectors,
    reward: async (inputs) => (await run('reward', fns.reward && ((s) => fns.reward!(inputs, s)))).scores,
    stats: () => ({ ...st }),
    resetStats: () => {
      st = emptyStats();
    },
    close: async () => fns.close?.(),
  };
}

/**
 * A {@link BackendResolver} over a fixed set of backends, checking the operations a grader needs.
 *
 * @example
 * const ctx = { specDir: '.', name: 'quality', backends: resolverOf([functionBackend('judge', { chat })]) };
 */
export function resolverOf(backends: readonly Backend[]): BackendResolver {
  const byName = new Map(backends.map((b) => [b.name, b]));
  return {
    get(name, needs) {
      const b = byName.get(name);
      if (!b) {
        const known = [...byName.keys()];
        throw new Error(`unknown backend "${name}" (${known.length ? `spec backends: ${known.join(', ')}` : 'the spec declares no backends'})`);
      }
      const missing = needs.filter((op) => !b.supports(op));
      if (missing.length > 0) throw new Error(`backend "${name}" (${b.type}) does not offer ${missing.join(', ')}`);
      return b;
    },
  };
}
