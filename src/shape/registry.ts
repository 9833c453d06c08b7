import * as z from 'zod';
import { ParamError } from '../graders/types.js';
import { centeredShaper } from './centered.js';
import { ceilingShaper } from './ceiling.js';
import { clipShaper } from './clip.js';
import { InvalidValueError, assertFiniteOrNull, assertGroups, assertLength } from './columns.js';
import { fittedpolyShaper } from './fittedpoly.js';
import { lengthPenaltyShaper } from './length_penalty.js';
import { lscShaper } from './lsc.js';
import { meanstdShaper } from './meanstd.js';
import { minmaxShaper } from './minmax.js';
import { parShaper } from './par.js';
import { potentialShaper } from './potential.js';
import { renormShaper } from './renorm.js';
import { sgfcShaper } from './sgfc.js';
import { sigmoidShaper } from './sigmoid.js';
import { tanhShaper } from './tanh.js';
import type { ShapeBatch, Shaper, ShaperKind } from './types.js';

/** Every shaper type, by its `type:` name in the spec. */
export const shapers = {
  par: parShaper,
  centered: centeredShaper,
  sgfc: sgfcShaper,
  meanstd: meanstdShaper,
  clip: clipShaper,
  minmax: minmaxShaper,
  sigmoid: sigmoidShaper,
  tanh: tanhShaper,
  fittedpoly: fittedpolyShaper,
  lsc: lscShaper,
  ceiling: ceilingShaper,
  length_penalty: lengthPenaltyShaper,
  renorm: renormShaper,
  potential: potentialShaper,
} as const;

function option<const T extends string, S extends z.ZodRawShape>(k: ShaperKind<T, S>) {
  return z.strictObject({ type: z.literal(k.type).describe(k.summary), ...k.params });
}

/** One shaping step of the spec: `{type: …, …params}`. */
export const shaperSpecSchema = z.discriminatedUnion('type', [
  option(parShaper),
  option(centeredShaper),
  option(sgfcShaper),
  option(meanstdShaper),
  option(clipShaper),
  option(minmaxShaper),
  option(sigmoidShaper),
  option(tanhShaper),
  option(fittedpolyShaper),
  option(lscShaper),
  option(ceilingShaper),
  option(lengthPenaltyShaper),
  option(renormShaper),
  option(potentialShaper),
]);

/** The spec's `shape:` section: shapers applied in this order, before the estimator. */
export const shapeSchema = z.array(shaperSpecSchema).describe('Reward shapers, applied in order before the estimator.');

export type ShaperSpec = z.infer<typeof shaperSpecSchema>;
export type ShapeSpec = z.infer<typeof shapeSchema>;

/** The shapers of a spec, applied in order, with their running state gathered in one place. */
export interface ShaperChain {
  /**
   * Rewrites `batch.rewards` in place. Checks the batch first (lengths, group indices, no ±Infinity)
   * and after each shaper (a shaper that turns a non-null reward into ±Infinity or NaN is reported
   * with the rollout index; so is one that turns a null reward into a number). Null rewards stay null. Not reentrant: a server must apply batches one at a time per chain.
   */
  apply(batch: ShapeBatch): void;
  /** JSON-serialisable state: one entry per spec step, `null` for stateless shapers. */
  save(): unknown[];
  /** Restores `save()`'s value; the spec must be the same. */
  load(state: unknown): void;
  /** Forgets all running statistics. */
  reset(): void;
}

/**
 * Builds the chain from the (parsed or raw) `shape:` section. Throws ZodError on bad params, or
 * `ParamError` whose `param` is `<index>.<key>` (relative to the `shape:` list).
 */
export function buildShapers(specs: z.input<typeof shapeSchema> | ShapeSpec): ShaperChain {
  const parsed = shapeSchema.parse(specs);
  const chain: Shaper[] = parsed.map((spec, idx) => {
    const { type, ...params } = spec;
    const kind = shapers[type] as ShaperKind<string, z.ZodRawShape>;
    try {
      return kind.create(params as never);
    } catch (e) {
      // The param path is relative to the `shape:` list, so the spec loader can prefix `shape.`.
      if (e instanceof ParamError) throw new ParamError(`${idx}.${e.param}`, e.message);
      if (e instanceof Error) e.message = `shape[${idx}] (${type}): ${e.message}`;
      throw e;
    }
  });
  const names = parsed.map((s) => s.type);
  return {
    apply(batch) {
      const n = batch.rewards.length;
      assertGroups(batch.groupOf, batch.groupCount, n);
      assertLength(batch.lengths, n, 'lengths');
      if (batch.tokenLengths !== undefined) assertLength(batch.tokenLengths, n, 'tokenLengths');
      assertFiniteOrNull(batch.rewards, 'reward');
      if (chain.length === 0) return;
      const wasNull = new Uint8Array(n);
      for (let i = 0; i < n; i++) wasNull[i] = batch.rewards[i] !== batch.rewards[i] ? 1 : 0;
      for (let s = 0; s < chain.length; s++) {
        chain[s].apply(batch);
        const r = batch.rewards;
        for (let i = 0; i < n; i++) {
          const v = r[i];
          if (v === Infinity || v === -Infinity || (v !== v && wasNull[i] === 0)) {
            throw new InvalidValueError(i, `reward after shaper ${s} (${names[s]})`, v);
          }
          if (v === v && wasNull[i] === 1) {
            throw new InvalidValueError(i, `reward after shaper ${s} (${names[s]})`, v, 'was null (cannot judge) and must stay null');
          }
        }
      }
    },
    save() {
      return chain.map((s) => (s.state ? s.state.save() : null));
    },
    load(state) {
      if (!Array.isArray(state) || state.length !== chain.length) {
        throw new TypeError(`shaper state must be a list of ${chain.length} entries (one per shape step)`);
      }
      chain.forEach((s, i) => {
        if (s.state) {
          try {
            s.state.load(state[i]);
          } catch (e) {
            throw new TypeError(`shaper state [${i}] (${names[i]}): ${e instanceof Error ? e.message : String(e)}`);
          }
        } else if (state[i] !== null) throw new TypeError(`shaper state [${i}] (${names[i]}) must be null: the shaper is stateless`);
      });
    },
    reset() {
      for (const s of chain) s.state?.reset();
    },
  };
}
