import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { loadSpecFile } from '../spec/load.js';
import { compileSpecFile, compileSpecFileAsync, type CompiledSpec } from '../spec/compile.js';
import { preloadModules } from '../graders/module.js';
import { SpecError } from '../spec/errors.js';
import type { Rollout } from '../rollout/types.js';
import { HttpError } from './errors.js';
import { ServerConfigError } from './options.js';

/**
 * The specs a server serves: loaded and compiled once at start-up, immutable afterwards, and the
 * routing of each request or rollout to one of them (by the request's `spec`, else by
 * `meta.data_source`, else the default spec).
 */

/** One served spec. `index` is its position in the set (the worker pool addresses specs by it). */
export interface SpecEntry {
  readonly name: string;
  readonly file: string;
  readonly index: number;
  readonly compiled: CompiledSpec;
  /** Grader kind of each component, in spec order (metric labels). */
  readonly graderKinds: readonly string[];
}

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Expands `--spec` arguments: files as given, folders to their spec files (sorted, not recursive). */
export function expandSpecPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) throw new ServerConfigError(`spec ${p}: no such file or folder`);
    if (statSync(abs).isDirectory()) {
      const files = readdirSync(abs)
        .filter((f) => SPEC_EXTENSIONS.has(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(abs, f))
        .filter((f) => statSync(f).isFile());
      if (files.length === 0) throw new ServerConfigError(`spec folder ${p} holds no .yaml, .yml or .json file`);
      out.push(...files);
    } else out.push(abs);
  }
  return [...new Set(out)];
}

/** Loads and compiles one spec file (used by the server and by each pool worker alike). */
export { compileSpecFile, compileSpecFileAsync };

/**
 * Imports the modules of the `grader: module` components of every spec file under `paths`, so that
 * the synchronous {@link SpecSet} constructor can compile them. A file that does not load is skipped
 * here (the constructor reports it).
 */
export async function preloadSpecFiles(paths: readonly string[]): Promise<void> {
  let files: string[];
  try {
    files = expandSpecPaths(paths);
  } catch {
    return;
  }
  for (const file of files) {
    try {
      const loaded = loadSpecFile(file);
      await preloadModules(loaded.spec, loaded.dir);
    } catch {
      // reported by the SpecSet constructor
    }
  }
}

/** Where a routing decision came from (for errors that name the request path). */
interface RouteChoice {
  entry: SpecEntry | undefined;
  /** Request path blamed when no spec matches. */
  path: string;
  message: string;
}

/** The served specs and their routing. Frozen after construction. */
export class SpecSet {
  readonly entries: readonly SpecEntry[];
  readonly defaultName: string | undefined;
  readonly routes: Readonly<Record<string, string>>;
  private readonly byName: ReadonlyMap<string, SpecEntry>;

  /**
   * Loads every spec file. Throws {@link ServerConfigError} listing spec errors (with their paths),
   * duplicate spec names, an unknown default spec or a route to an unknown spec.
   */
  constructor(paths: readonly string[], opts: { defaultSpec?: string; routes?: Record<string, string> } = {}) {
    const files = expandSpecPaths(paths);
    const entries: SpecEntry[] = [];
    const byName = new Map<string, SpecEntry>();
    const problems: string[] = [];
    for (const file of files) {
      let compiled: CompiledSpec;
      try {
        compiled = compileSpecFile(file);
      } catch (e) {
        if (e instanceof SpecError) {
          problems.push(e.message);
          continue;
        }
        throw e;
      }
      const name = compiled.spec.name;
      const prev = byName.get(name);
      if (prev) {
        problems.push(`spec name "${name}" is used by both ${prev.file} and ${file}: give each spec a distinct \`name\``);
        continue;
      }
      const entry: SpecEntry = Object.freeze({
        name,
        file,
        index: entries.length,
        compiled,
        graderKinds: Object.freeze(compiled.spec.components.map((c) => c.grader)),
      });
      entries.push(entry);
      byName.set(name, entry);
    }
    if (problems.length > 0) throw new ServerConfigError(problems.join('\n'));
    const defaultName = opts.defaultSpec ?? (entries.length === 1 ? entries[0]!.name : undefined);
    if (defaultName !== undefined && !byName.has(defaultName))
      throw new ServerConfigError(`default spec "${defaultName}" is not loaded (loaded: ${[...byName.keys()].join(', ')})`);
    const routes: Record<string, string> = Object.create(null);
    for (const [source, name] of Object.entries(opts.routes ?? {})) {
      if (!byName.has(name)) throw new ServerConfigError(`route ${source}=${name}: spec "${name}" is not loaded (loaded: ${[...byName.keys()].join(', ')})`);
      routes[source] = name;
    }
    this.entries = Object.freeze(entries);
    this.byName = byName;
    this.defaultName = defaultName;
    this.routes = Object.freeze(routes);
    Object.freeze(this);
  }

  /** The spec named `name`, or undefined. */
  get(name: string): SpecEntry | undefined {
    return this.byName.get(name);
  }

  /** Names of every served spec, in load order. */
  names(): string[] {
    return this.entries.map((e) => e.name);
  }

  /** The spec a request's `spec` field names; throws 422 naming `path` when it is not served. */
  named(name: string, path = 'spec'): SpecEntry {
    const e = this.byName.get(name);
    if (!e) throw new HttpError(422, `unknown spec "${name}" (served: ${this.names().join(', ')})`, path);
    return e;
  }

  /** The spec for a rollout without a request-level `spec`: its data_source route, else the default. */
  private choose(dataSource: unknown, at: string, specPath = 'spec'): RouteChoice {
    if (typeof dataSource === 'string') {
      const routed = this.routes[dataSource];
      if (routed !== undefined) return { entry: this.byName.get(routed), path: at, message: '' };
      const same = this.byName.get(dataSource);
      if (same) return { entry: same, path: at, message: '' };
    }
    if (this.defaultName !== undefined) return { entry: this.byName.get(this.defaultName), path: at, message: '' };
    if (typeof dataSource === 'string')
      return { entry: undefined, path: at, message: `no spec for data_source "${dataSource}" and no default spec (served: ${this.names().join(', ')}; map sources with --route SOURCE=SPEC)` };
    return { entry: undefined, path: specPath, message: `several specs are served (${this.names().join(', ')}): name one in \`spec\`, route by meta.data_source, or start the server with --default-spec` };
  }

  /** The default spec (for routes without per-rollout routing); throws 422 when there is none. */
  defaultEntry(path = 'spec'): SpecEntry {
    const c = this.choose(undefined, path, path);
    if (!c.entry) throw new HttpError(422, c.message, c.path);
    return c.entry;
  }

  /**
   * Splits a batch by spec. With `specName`, every rollout goes to that spec. Otherwise each rollout
   * goes by `meta.data_source` (route table, then a spec of that name), then to the default spec.
   * Returns the parts in first-appearance order, each with the original indices of its rollouts.
   */
  partition(rollouts: readonly Rollout[], specName: string | undefined): { entry: SpecEntry; indices: number[] }[] {
    if (specName !== undefined) return [{ entry: this.named(specName), indices: rollouts.map((_, i) => i) }];
    if (this.entries.length === 1 && this.defaultName !== undefined && Object.keys(this.routes).length === 0)
      return [{ entry: this.entries[0]!, indices: rollouts.map((_, i) => i) }];
    const parts = new Map<SpecEntry, number[]>();
    for (let i = 0; i < rollouts.length; i++) {
      const c = this.choose(rollouts[i]!.meta?.data_source, `rollouts[${i}].meta.data_source`);
      if (!c.entry) throw new HttpError(422, c.message, c.path);
      let list = parts.get(c.entry);
      if (!list) parts.set(c.entry, (list = []));
      list.push(i);
    }
    return [...parts].map(([entry, indices]) => ({ entry, indices }));
  }

  /** Public description of the served specs (`GET /v1/specs`): no file system paths beyond the file name. */
  describe(): Record<string, unknown> {
    return {
      default_spec: this.defaultName ?? null,
      routes: { ...this.routes },
      specs: this.entries.map((e) => {
        const s = e.compiled.spec;
        return {
          name: e.name,
          ...(s.description ? { description: s.description } : {}),
          file: basename(e.file),
          components: s.components.map((c) => ({ name: c.name, grader: c.grader, weight: c.weight })),
          combine: s.combine ?? { type: 'weighted_sum' },
          shape: (s.shape ?? []).map((x) => (x as { type: string }).type),
          advantage: s.advantage ? (s.advantage as { estimator: string }).estimator : null,
          data_sources: Object.entries(this.routes)
            .filter(([, n]) => n === e.name)
            .map(([src]) => src),
        };
      }),
    };
  }
}
