import { basename, extname } from 'node:path';
import { parseSpec } from '../spec/load.js';
import { compileSpec, compileSpecAsync, compileSpecFile, compileSpecFileAsync, type CompiledSpec } from '../spec/compile.js';
import { scoreBatch } from '../pipeline.js';
import type { Rollout } from '../rollout/types.js';

/**
 * Where an evaluation gets its numbers from. Any spec is a scorer: rule-based, reward model, judge or
 * likelihood — the evaluations only see `score(rollouts) → one reward per rollout`. A stored number can
 * stand in for a spec (`field:meta.gold`), e.g. a reward the trainer already logged.
 */
export interface RewardSource {
  /** Name shown in tables, reports and JSON. */
  readonly label: string;
  readonly kind: 'spec' | 'field' | 'function';
  /** The spec's component names (spec sources only). */
  readonly componentNames: readonly string[];
  /** Scores one batch. Rollouts sharing `group` are scored as one group (group graders, shapers). */
  score(rollouts: readonly Rollout[]): Promise<SourceScores>;
}

export interface SourceScores {
  /** One reward per rollout, NaN where the reward is null (not applicable or a grader failed). */
  rewards: Float64Array;
  /** Spec sources: one column per component, NaN = null. */
  components: Float64Array[];
  /** Rollouts of this batch whose scoring reported errors, and the first message. */
  errors: number;
  firstError?: string;
}

function labelOf(spec: CompiledSpec, path?: string): string {
  if (spec.spec.name !== 'reward' || !path) return spec.spec.name;
  return basename(path, extname(path));
}

/** A source from a compiled spec: the pipeline's combined (and shaped) reward. */
export function compiledSource(compiled: CompiledSpec, label: string): RewardSource {
  return {
    label,
    kind: 'spec',
    componentNames: compiled.names,
    async score(rollouts) {
      const { results, columns } = await scoreBatch(compiled, rollouts);
      let errors = 0;
      let firstError: string | undefined;
      for (const r of results)
        if (r.errors) {
          errors++;
          firstError ??= `${r.id}: ${r.errors[0]!.component}: ${r.errors[0]!.message}`;
        }
      return { rewards: columns.rewards, components: columns.components, errors, firstError };
    },
  };
}

/**
 * A source from a spec file (`.yaml`/`.json`) or an inline spec object. Throws `SpecError` for an
 * invalid spec. The label is the spec's `name`, or the file's base name when the spec keeps the
 * default name.
 */
export function specSource(spec: string | object, label?: string): RewardSource {
  if (typeof spec === 'string') {
    const compiled = compileSpecFile(spec);
    return compiledSource(compiled, label ?? labelOf(compiled, spec));
  }
  const compiled = compileSpec(parseSpec(spec, 'spec'), { source: 'spec' });
  return compiledSource(compiled, label ?? compiled.spec.name);
}

/**
 * {@link specSource} for specs that may hold `grader: module` components: imports their modules first
 * (`compileSpecFileAsync`). The CLI's `rewardkit eval` loads specs this way.
 *
 * @example
 * const s = await specSourceAsync('examples/eval/length.yaml'); // s.label → 'length'
 */
export async function specSourceAsync(spec: string | object, label?: string): Promise<RewardSource> {
  if (typeof spec === 'string') {
    const compiled = await compileSpecFileAsync(spec);
    return compiledSource(compiled, label ?? labelOf(compiled, spec));
  }
  const compiled = await compileSpecAsync(parseSpec(spec, 'spec'), { source: 'spec' });
  return compiledSource(compiled, label ?? compiled.spec.name);
}

/** Reads a dotted path (`meta.gold`, `steps.0.reward`) from a JSON value; undefined when absent. */
export function readPath(v: unknown, path: string): unknown {
  let cur: unknown = v;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A source that reads a number stored in each rollout (`field:reward`, `field:meta.gold`); non-numbers are null. */
export function fieldSource(path: string, label = path): RewardSource {
  return {
    label,
    kind: 'field',
    componentNames: [],
    async score(rollouts) {
      const rewards = new Float64Array(rollouts.length);
      let errors = 0;
      let firstError: string | undefined;
      rollouts.forEach((r, i) => {
        const v = readPath(r, path);
        if (typeof v === 'number' && Number.isFinite(v)) rewards[i] = v;
        else {
          rewards[i] = NaN;
          errors++;
          firstError ??= `${r.id}: ${path} is ${v === undefined ? 'missing' : `not a finite number (${JSON.stringify(v)})`}`;
        }
      });
      return { rewards, components: [], errors, firstError };
    },
  };
}

/** A source from a plain function of one rollout (library use and tests). Throwing or NaN → null. */
export function functionSource(label: string, fn: (r: Rollout) => number | null): RewardSource {
  return {
    label,
    kind: 'function',
    componentNames: [],
    async score(rollouts) {
      const rewards = new Float64Array(rollouts.length);
      let errors = 0;
      let firstError: string | undefined;
      rollouts.forEach((r, i) => {
        try {
          const v = fn(r);
          rewards[i] = v === null ? NaN : v;
        } catch (e) {
          rewards[i] = NaN;
          errors++;
          firstError ??= `${r.id}: ${(e as Error).message}`;
        }
      });
      return { rewards, components: [], errors, firstError };
    },
  };
}

/**
 * Parses a command-line source: `field:PATH` reads a stored number, anything else is a spec file.
 * (`step:KEY` is handled by `eval epic` itself.)
 */
export function parseSource(arg: string): RewardSource {
  if (arg.startsWith('field:')) return fieldSource(arg.slice(6), arg);
  return specSource(arg);
}

/** {@link parseSource} with spec files loaded by {@link specSourceAsync} (`grader: module` components work). */
export async function parseSourceAsync(arg: string): Promise<RewardSource> {
  if (arg.startsWith('field:')) return fieldSource(arg.slice(6), arg);
  return specSourceAsync(arg);
}

/** Makes labels unique by suffixing repeats (`len`, `len#2`), so tables and matrices stay unambiguous. */
export function uniqueLabels(labels: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const k = (seen.get(l) ?? 0) + 1;
    seen.set(l, k);
    return k === 1 ? l : `${l}#${k}`;
  });
}

/** Counts scoring errors across batches and keeps the first message, for one warning at the end. */
export class ErrorTally {
  count = 0;
  first: string | undefined;
  add(s: SourceScores): void {
    this.count += s.errors;
    this.first ??= s.firstError;
  }
  /** A warning line, or null when there were no errors. */
  message(label: string, what = 'rollouts'): string | null {
    if (this.count === 0) return null;
    return `${label}: ${this.count} ${what} had scoring errors (counted as null; first: ${this.first})`;
  }
}
