/**
 * `npm run build`, second step: bundles the compiled CLI (dist/cli/main.js, just emitted by tsc) into
 * dist/cli-bundle/ with esbuild, so that `rewardkit` starts from a handful of files instead of ~400
 * (each ES module costs Node a resolve, a read and a compile; loading them was most of the start-up).
 *
 * - Code splitting keeps each command lazy: `rewardkit score` loads the score chunk and what it needs,
 *   not the server or the evaluation suite (the same split as src/cli/main.ts's dynamic imports), and
 *   of the graders only those its spec names (src/graders/kinds.ts, src/spec/load_async.ts).
 * - Bundled: rewardkit's own code and the small pure-JS packages the commands load (zod, yaml,
 *   commander, re2js, fastest-levenshtein). Every other dependency stays an `import` of
 *   node_modules: native addons (better-sqlite3, node-llama-cpp), packages that start worker threads
 *   or child processes from their own files (piscina, tsx, esbuild), and the heavy ones graders load
 *   only when a spec uses them (node-sql-parser, ajv, mathjs, openai, …).
 * - Files the code starts by path (the server's pool worker, the SQL query process) are not bundled:
 *   they run from dist/ (see workerFile in src/server/engine.ts and childPath in src/graders/sql/executor.ts).
 * - V8's code cache of each chunk (dist/cli-bundle/code-cache/FLAGS/NAME.v8) is made here by running the
 *   bin on a few commands (trainCodeCache): the bin then starts without compiling the chunks it loads.
 * - bin/rewardkit.cjs runs the bundle only when it is at least as new as dist/cli/main.js, so a plain
 *   `tsc -p tsconfig.build.json` (which rewrites dist/cli/main.js) never leaves a stale bundle in use;
 *   REWARDKIT_NO_BUNDLE=1 forces dist/cli/main.js.
 *
 * esbuild comes with tsx (a dependency), es-module-lexer is a dev dependency. Without either, the build
 * prints one line and bin/rewardkit.cjs runs dist/cli/main.js (slower start-up, same behaviour).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli-bundle');
/** Pure-JS packages loaded by every command at start-up: bundled. */
const BUNDLED = new Set(['zod', 'yaml', 'commander', 're2js', 'fastest-levenshtein']);
/** The one file of the bundle that Node compiles itself: the chunks' `import()` of packages and URLs. */
const DYNAMIC_IMPORT = 'dynamic-import.cjs';

/**
 * zod in the bundle. rewardkit's modules import it as `import * as z from 'zod'` (never the `z`
 * export object), so esbuild keeps only the zod functions they reach (`z.toJSONSchema`, the codecs,
 * the ISO formats… stay out of `score`): 288 KB → 152 KB. zod's `locales` module still holds its ~50
 * locales, and zod's core imports it whole; rewardkit uses the default English messages only, so in
 * the bundle `locales` holds `en` alone. Specs and user modules are unaffected: a module's own
 * `import { z } from 'zod'` is the full package from node_modules.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(a.importer) ? { path: join(dirname(a.importer), '..', 'locales', 'en.js'), namespace: 'zod-en' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-en' }, (a) => ({ contents: `export { default as en } from ${JSON.stringify(a.path)};`, resolveDir: dirname(a.path) }));
  },
};

/**
 * commander requires `node:child_process` when it loads, for subcommands run as separate executables,
 * which rewardkit has none of; loading it (with net, dgram and streams) costs Node ~15 ms at every
 * start. In the bundle, commander gets a stand-in that requires the module on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (a) => (/[\\/]commander[\\/]/.test(a.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined));
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "let m; const get = () => (m ??= require('node:child_process'));\nmodule.exports = new Proxy({}, { get: (_, k) => get()[k], has: (_, k) => k in get() });\n",
      loader: 'js',
    }));
  },
};

/**
 * `yaml` resolves for Node to its CommonJS build, which a bundler must include whole (the stringifier,
 * the visitors, the CST tools); its ES build (the `default` export condition, the same code) lets
 * esbuild keep what the CLI's parse and stringify calls reach: ~30 KB less for `score` to compile.
 */
const yamlEsm = {
  name: 'yaml-esm',
  setup(build) {
    build.onResolve({ filter: /^yaml$/ }, () => ({ path: join(root, 'node_modules', 'yaml', 'browser', 'index.js') }));
  },
};

let esbuild;
let parseImports;
try {
  const lexer = await import('es-module-lexer');
  await lexer.init;
  parseImports = lexer.parse;
  esbuild = await import('esbuild');
} catch {
  console.log('bundle-cli: esbuild or es-module-lexer (dev dependencies) not found; bin/rewardkit.cjs will run dist/cli/main.js (slower start-up)');
  process.exit(0);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), 'esbuild'].filter((d) => !BUNDLED.has(d));
rmSync(out, { recursive: true, force: true });
const built = await esbuild.build({
  entryPoints: { main: join(root, 'dist', 'cli', 'main.js') },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // Smaller source parses faster; identifiers stay, so stack traces (REWARDKIT_DEBUG=1) stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  plugins: [zodEnglishOnly, yamlEsm, lazyChildProcess],
  // Every file's name carries a hash of its content, the entry too (main-HASH.cjs, required by the
  // main.cjs stub below): a chunk's V8 code cache (dist/cli-bundle/code-cache/NAME.v8) then always
  // belongs to the bytes it was made from.
  entryNames: '[name]-[hash]',
  write: false,
});
mkdirSync(out, { recursive: true });
let entry;
for (const file of built.outputFiles) {
  const name = basename(file.path).replace(/\.js$/, '.cjs');
  if (name.startsWith('main-')) entry = name;
  writeFileSync(join(out, name), await toCommonJs(file.text, name));
}
writeFileSync(join(out, DYNAMIC_IMPORT), '"use strict";module.exports=(s)=>import(s);\n');
writeFileSync(join(out, 'main.cjs'), `"use strict";module.exports=require("./${entry}");\n`);
trainCodeCache();

/**
 * One ES chunk of the split bundle as a CommonJS file. Node runs a CommonJS program without its ES
 * module loader: no loader to start, and each chunk is a synchronous `require` (one read) instead of an
 * asynchronous fetch, resolve and link per import — ~20 ms of `rewardkit score`'s start-up on this
 * machine. The chunks keep their ES semantics:
 * - imports between chunks become `require` of the `.cjs` files, with live bindings (esbuild reads
 *   each imported name at its use), and `import()` of a chunk a `require` in a promise, so the
 *   commands and grader kinds stay lazy;
 * - a default import of a CommonJS package is its `module.exports`, as Node's ES loader gives it
 *   (esbuild's "node mode" of `__toESM`); `import()` of a package stays an `import()`;
 * - `import.meta.url` is the chunk's file URL; the code is strict, as ES modules are.
 * Anything else an ES module could do that CommonJS cannot (top-level `await`, another `import.meta`
 * field) fails the build here instead of misbehaving at run time.
 */
async function toCommonJs(code, name) {
  const r = await esbuild.transform(code, {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { 'import.meta.url': '__rkMetaUrl' },
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'silent',
  });
  if (r.warnings.length > 0) throw new Error(`bundle-cli: ${name}: ${r.warnings.map((w) => w.text).join('; ')}`);
  let js = rewriteDynamicImports(
    r.code.replace(/\brequire\("\.\/([\w-]+)\.js"\)/g, 'require("./$1.cjs")').replace(/__toESM\(require\(("[^".][^"]*")\)\)/g, '__toESM(require($1),1)'),
    name,
  );
  if (/\bimport\.meta\b/.test(js)) throw new Error(`bundle-cli: ${name}: import.meta left after the CommonJS conversion`);
  const helpers = [];
  if (js.includes('__rkMetaUrl')) helpers.push('__rkMetaUrl=require("node:url").pathToFileURL(__filename).href');
  if (js.includes('__rkImport')) helpers.push('__rkImport=(p)=>Promise.resolve().then(()=>require(p))');
  if (js.includes('__rkDynamicImport')) helpers.push(`__rkDynamicImport=require("./${DYNAMIC_IMPORT}")`);
  return `"use strict";${helpers.length ? `var ${helpers.join(',')};` : ''}${js}`;
}

/**
 * The `import()` expressions of a chunk (found by es-module-lexer, which knows strings, templates and
 * regular expressions from code: a string such as `new Function('u', 'return import(u)')` is left
 * alone):
 * - `import("./chunk.js")` of another chunk becomes `__rkImport("./chunk.cjs")`, a `require` in a promise;
 * - `import(x)` of a package or a URL becomes `__rkDynamicImport(x)`, the function of the one-line
 *   dynamic-import.cjs, which Node compiles itself: bin/rewardkit.cjs compiles the chunks with
 *   `vm.Script` (to give V8 their code cache), and Node 20 gives such a script's own `import()` its
 *   ES loader only behind a flag.
 * Any other relative `import()` fails the build.
 */
function rewriteDynamicImports(js, name) {
  const [imports] = parseImports(js);
  let out = '';
  let at = 0;
  for (const i of imports) {
    if (i.t !== 2) continue;
    const chunk = /^\.\/([\w-]+)\.js$/.exec(i.n ?? '');
    if (chunk && i.se > i.ss) {
      out += `${js.slice(at, i.ss)}__rkImport("./${chunk[1]}.cjs")`;
      at = i.se;
    } else if (i.n === undefined ? /^\s*["'`]\./.test(js.slice(i.d + 1, i.d + 64)) : i.n.startsWith('.')) {
      throw new Error(`bundle-cli: ${name}: a relative import() the CommonJS conversion cannot map: ${js.slice(i.ss, i.ss + 80)}`);
    } else {
      out += `${js.slice(at, i.ss)}__rkDynamicImport`;
      at = i.d;
    }
  }
  return out + js.slice(at);
}

/**
 * V8's code cache for the chunks, made here once per build so that `rewardkit` starts without
 * compiling them (~30 ms of `rewardkit score`'s ~250 ms on this machine; Node ≥ 22.1 has this built in as
 * `module.enableCompileCache()`, Node 20 has not). bin/rewardkit.cjs compiles each chunk with
 * `vm.Script` and hands V8 the chunk's cache when dist/cli-bundle/code-cache/ has one; this function
 * runs the bin on a few representative commands with REWARDKIT_CODE_CACHE=write, which makes the bin
 * write, at exit, the cache of every chunk it loaded, including the bytecode of each function that ran
 * (V8 compiles functions lazily, on first call). Each run starts from the caches the earlier ones wrote,
 * so a chunk's cache covers what all of them ran.
 *
 * V8 accepts a cache only for the same V8 version, the same source length and the same V8 flags, so the
 * bin keeps one set per flags (code-cache/FLAGS/). The runs here make two: with the flags of the bin's
 * shebang line (`rewardkit …` as installed) and with none (`node bin/rewardkit.cjs …`, as the README runs
 * it in a clone). Node started with other flags finds no set and compiles as without the cache. A failed
 * run here only leaves fewer caches: it prints one line and the build goes on.
 */
function trainCodeCache() {
  if (typeof createRequire(import.meta.url)('node:module').enableCompileCache === 'function') return; // Node ≥ 22.1: Node's own cache
  const bin = join(root, 'bin', 'rewardkit.cjs');
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0];
  const flags = shebang.replace(/^#!.*?\bnode\b/, '').trim().split(/\s+/).filter(Boolean);
  const tmp = mkdtempSync(join(tmpdir(), 'rk-code-cache-'));
  const runs = [
    ['score', '--spec', 'examples/gsm8k.yaml', '--in', 'examples/gsm8k_rollouts.jsonl', '--out', join(tmp, 'out.jsonl'), '-q'],
    ['spec', 'check', 'examples/gsm8k.yaml'],
    ['--help'],
  ];
  try {
    for (const [nodeFlags, args] of [flags, []].flatMap((f) => runs.map((a) => [f, a]))) {
      const r = spawnSync(process.execPath, [...nodeFlags, bin, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, REWARDKIT_CODE_CACHE: 'write', REWARDKIT_NO_BUNDLE: '' } });
      if (r.status !== 0) {
        console.log(`bundle-cli: the code-cache run \`rewardkit ${args.join(' ')}\` failed (${r.status}); its chunks start without a cache: ${(r.stderr ?? '').trim().split('\n').pop()}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
