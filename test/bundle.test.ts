import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as lexer from 'es-module-lexer';
import { ROOT, SHEBANG_FLAGS, rewardkit } from './cli.js';

/**
 * The start-up bundle (dist/cli-bundle, scripts/bundle-cli.mjs) behaves as the compiled modules it is
 * built from: same output bytes, same errors, and the files it starts by path (the SQL query process,
 * the server's pool worker) are found from it. Needs `npm run build` (a bare `tsc` leaves the bundle
 * stale, and bin/rewardkit.js then ignores it: this file says so and skips).
 */
const bundle = join(ROOT, 'dist', 'cli-bundle', 'main.cjs');
const compiled = join(ROOT, 'dist', 'cli', 'main.js');
const fresh = existsSync(bundle) && existsSync(compiled) && statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs;
if (!fresh) console.warn('skipping the CLI bundle tests: dist/cli-bundle is missing or older than dist/cli (run `npm run build`)');

describe.skipIf(!fresh)('CLI bundle', { timeout: 180_000 }, () => {
  const modules = { REWARDKIT_NO_BUNDLE: '1' };

  it('score writes the same bytes from the bundle as from the compiled modules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-bundle-'));
    try {
      const args = (out: string) => ['score', '--spec', 'examples/gsm8k.yaml', '--in', 'examples/gsm8k_rollouts.jsonl', '--out', out, '--details', '-q'];
      const a = rewardkit(args(join(dir, 'a.jsonl')));
      const b = rewardkit(args(join(dir, 'b.jsonl')), { env: modules });
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const text = readFileSync(join(dir, 'a.jsonl'), 'utf8');
      expect(text.length).toBeGreaterThan(0);
      expect(text).toBe(readFileSync(join(dir, 'b.jsonl'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bin runs the bundle when it is fresh, and the compiled modules with REWARDKIT_NO_BUNDLE=1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-bundle-hooks-'));
    try {
      // Lists every rewardkit file the CLI loads: ES modules through a resolve hook, CommonJS files (the
      // bundle) from require's cache at exit.
      writeFileSync(join(dir, 'hooks.mjs'), "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }\n");
      writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
      writeFileSync(join(dir, 'cjs.cjs'), "process.on('exit', () => { for (const f of Object.keys(require.cache)) if (f.includes('/dist/')) process.stderr.write('loaded ' + f + '\\n'); });\n");
      const loaded = (env: Record<string, string>) => {
        const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), '--require', join(dir, 'cjs.cjs'), join(ROOT, 'bin', 'rewardkit.cjs'), 'spec', 'check', 'examples/gsm8k.yaml'], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, REWARDKIT_NO_BUNDLE: '', ...env },
        });
        expect(r.status, r.stderr).toBe(0);
        return [...r.stderr.matchAll(/^loaded .*\/dist\/(.*)$/gm)].map((m) => m[1]!);
      };
      const fromBundle = loaded({});
      expect(fromBundle.length).toBeGreaterThan(0);
      expect(fromBundle.filter((f) => !f.startsWith('cli-bundle/'))).toEqual([]);
      const fromModules = loaded(modules);
      expect(fromModules).toContain('cli/main.js');
      expect(fromModules.filter((f) => f.startsWith('cli-bundle/'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('V8 takes the code cache of every chunk score loads under the shebang\'s flags; the output is the same without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-code-cache-'));
    try {
      // Runs the bin after counting the scripts it compiles with a cache, and those whose cache V8 rejects
      // (a wrapper script rather than --require, which would change the flags the bin picks its cache by).
      writeFileSync(
        join(dir, 'probe.cjs'),
        "const vm = require('node:vm'); const S = vm.Script; let given = 0, rejected = 0;\n" +
          'vm.Script = class extends S { constructor(c, o) { super(c, o); if (o && o.cachedData) { given++; if (this.cachedDataRejected) rejected++; } } };\n' +
          "process.on('exit', () => process.stderr.write(`code-cache given ${given} rejected ${rejected}\\n`));\n" +
          `require(${JSON.stringify(join(ROOT, 'bin', 'rewardkit.cjs'))});\n`,
      );
      const run = (flags: string[], out: string, env: Record<string, string> = {}) => {
        const r = spawnSync(process.execPath, [...flags, join(dir, 'probe.cjs'), 'score', '--spec', 'examples/gsm8k.yaml', '--in', 'examples/gsm8k_rollouts.jsonl', '--out', join(dir, out), '--details', '-q'], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, REWARDKIT_NO_BUNDLE: '', REWARDKIT_CODE_CACHE: '', NODE_OPTIONS: '', ...env },
        });
        expect(r.status, r.stderr).toBe(0);
        const m = /code-cache given (\d+) rejected (\d+)/.exec(r.stderr)!;
        return { given: Number(m[1]), rejected: Number(m[2]), text: readFileSync(join(dir, out), 'utf8') };
      };
      const cached = run(SHEBANG_FLAGS, 'a.jsonl');
      expect(cached.given).toBeGreaterThan(10);
      expect(cached.rejected).toBe(0);
      const off = run(SHEBANG_FLAGS, 'b.jsonl', { REWARDKIT_CODE_CACHE: 'off' });
      expect(off.given).toBe(0);
      expect(cached.text.length).toBeGreaterThan(0);
      expect(cached.text).toBe(off.text);
      // `node bin/rewardkit.cjs` (no flags) has its own set.
      const plain = run([], 'c.jsonl');
      expect([plain.given > 10, plain.rejected]).toEqual([true, 0]);
      expect(plain.text).toBe(off.text);
      // Flags the build made no set for: no cache read, the same output.
      const other = run([...SHEBANG_FLAGS, '--stack-size=2000'], 'd.jsonl');
      expect([other.given, other.rejected]).toEqual([0, 0]);
      expect(other.text).toBe(off.text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no chunk keeps an import() of its own (the bin compiles them with vm.Script; dynamic-import.cjs does it for them)', async () => {
    await lexer.init;
    const dir = join(ROOT, 'dist', 'cli-bundle');
    const chunks = readdirSync(dir).filter((f) => f.endsWith('.cjs'));
    const withImport = chunks.filter((f) => lexer.parse(readFileSync(join(dir, f), 'utf8'))[0].some((i) => i.t === 2));
    expect(withImport).toEqual(['dynamic-import.cjs']);
    // An import() in a string (module.ts's `new Function('url', 'return import(url)')`) is a string, kept as written.
    expect(chunks.some((f) => readFileSync(join(dir, f), 'utf8').includes("new Function(\"url\",\"return import(url)\")"))).toBe(true);
  });

  it('--version, --help, graders and a spec error print the same from both', () => {
    for (const args of [['--version'], ['--help'], ['graders'], ['spec', 'check', 'no/such/spec.yaml']]) {
      const a = rewardkit(args);
      const b = rewardkit(args, { env: modules });
      expect([a.code, a.stdout, a.stderr], args.join(' ')).toEqual([b.code, b.stdout, b.stderr]);
    }
    // bin/rewardkit.js (the path earlier versions documented) runs the same bin.
    const shim = spawnSync(process.execPath, [join(ROOT, 'bin', 'rewardkit.js'), 'spec', 'check', 'examples/gsm8k.yaml'], { cwd: ROOT, encoding: 'utf8' });
    const real = rewardkit(['spec', 'check', 'examples/gsm8k.yaml']);
    expect([shim.status, shim.stdout, shim.stderr]).toEqual([real.code, real.stdout, real.stderr]);
    expect(real.code).toBe(0);
    expect(rewardkit(['--version']).stdout).toBe(`${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });
});

describe('start-up: a command loads the grader kinds its spec names, no others', { timeout: 180_000 }, () => {
  it('score and spec check with examples/gsm8k.yaml (numeric, format, length) load neither the registry nor other graders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-lazy-kinds-'));
    try {
      writeFileSync(join(dir, 'hooks.mjs'), "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('/dist/')) process.stderr.write('loaded ' + r.url + '\\n'); return r; }\n");
      writeFileSync(join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister(new URL('./hooks.mjs', import.meta.url));\n");
      for (const args of [
        ['score', '--spec', 'examples/gsm8k.yaml', '--in', 'examples/gsm8k_rollouts.jsonl', '--out', join(dir, 'out.jsonl'), '-q'],
        ['spec', 'check', 'examples/gsm8k.yaml'],
      ]) {
        // The compiled modules (one file each), so that the list names every module the command loads.
        const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), join(ROOT, 'bin', 'rewardkit.js'), ...args], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, REWARDKIT_NO_BUNDLE: '1' },
        });
        expect(r.status, r.stderr).toBe(0);
        const graders = [...r.stderr.matchAll(/^loaded .*\/dist\/graders\/(.*)$/gm)].map((m) => m[1]!);
        expect(graders, args.join(' ')).toEqual(expect.arrayContaining(['kinds.js', 'numeric.js', 'format.js', 'length.js']));
        expect(graders.filter((f) => f === 'registry.js' || /^(math|sql|code|judge|python|tool_call)\//.test(f) || f === 'json.js'), args.join(' ')).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up: zod stays tree-shakable in the bundle', () => {
  it('no module imports zod\'s `z` object (`import * as z from \'zod\'` lets esbuild drop what the CLI does not reach)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && /^import \{[^}]*\bz\b[^}]*\} from 'zod'/m.test(readFileSync(p, 'utf8'))) offenders.push(p.slice(ROOT.length + 1));
      }
    };
    walk(join(ROOT, 'src'));
    expect(offenders).toEqual([]);
  });
});
