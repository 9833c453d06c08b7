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
 * - bin/rewardkit.js runs the bundle only when it is at least as new as dist/cli/main.js, so a plain
 *   `tsc -p tsconfig.build.json` (which rewrites dist/cli/main.js) never leaves a stale bundle in use;
 *   REWARDKIT_NO_BUNDLE=1 forces dist/cli/main.js.
 *
 * esbuild comes with tsx (a dependency). Without it, the build prints one line and bin/rewardkit.js
 * runs dist/cli/main.js (slower start-up, same behaviour).
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'cli-bundle');
/** Pure-JS packages loaded by every command at start-up: bundled. */
const BUNDLED = new Set(['zod', 'yaml', 'commander', 're2js', 'fastest-levenshtein']);

/**
 * zod's `z` namespace re-exports its ~50 locales (`z.locales`, half of zod's code), which no bundler
 * can drop while `z` is used as a namespace. rewardkit uses the default English messages only, so in
 * the bundle `z.locales` holds `en` alone. Specs and user modules are unaffected: a module's own
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

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.log('bundle-cli: esbuild not found; bin/rewardkit.js will run dist/cli/main.js (slower start-up)');
  process.exit(0);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), 'esbuild'].filter((d) => !BUNDLED.has(d));
rmSync(out, { recursive: true, force: true });
await esbuild.build({
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
  plugins: [zodEnglishOnly, lazyChildProcess],
  // The bundled CommonJS packages (commander) call require() for Node built-ins.
  banner: { js: "import { createRequire as __rkCreateRequire } from 'node:module'; const require = __rkCreateRequire(import.meta.url);" },
});
