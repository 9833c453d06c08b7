#!/usr/bin/env -S node --max-old-space-size=1024
// `rewardkit`: the package's bin (package.json "bin"; `npx rewardkit`, `npm link`). It is CommonJS,
// as is the start-up bundle it runs (dist/cli-bundle/*.cjs, built by scripts/bundle-cli.mjs from
// dist/cli by `npm run build`, which `npm ci` runs as `prepare`): Node then starts no ES module loader.
// - The heap cap makes V8 collect before growing: streaming 1M rollouts peaks at ~190 MB RSS instead of
//   ~290 MB, at no measurable cost. Run `node --max-old-space-size=N bin/rewardkit.cjs …` for another cap.
// - It runs the bundle only when it is at least as new as dist/cli/main.js, so a bare `tsc` rebuild never
//   runs stale code; otherwise, or with REWARDKIT_NO_BUNDLE=1, it imports dist/cli/main.js (the same CLI
//   as ~400 ES modules: slower start-up, same behaviour).
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

// V8 compiles a function with its optimising compilers once it has run "enough" (its interrupt budget,
// 67,584 bytecode bytes on Node 20); during start-up that happens to dozens of functions of the spec's
// YAML and zod parse, compiled once and never run again (~300 page faults, ~10 ms of `rewardkit score`
// here). A 4× budget for the first second leaves that run-once code to the interpreter; the default
// comes back after it, so a long run's hot loops are optimised as usual (a 16× budget kept for the
// whole run cost ~8% on 200k rollouts). Node 20 only (its V8's default is the value restored), and not
// when the user set the budget (in the command line or NODE_OPTIONS).
if (process.versions.node.split('.')[0] === '20' && !`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`.includes('interrupt-budget')) {
  const v8 = require('node:v8');
  v8.setFlagsFromString('--interrupt-budget=270336');
  setTimeout(() => v8.setFlagsFromString('--interrupt-budget=67584'), 1000).unref();
}
const Module = require('node:module');
const bundleDir = join(__dirname, '..', 'dist', 'cli-bundle');
const bundle = join(bundleDir, 'main.cjs');
const compiled = join(__dirname, '..', 'dist', 'cli', 'main.js');
const useBundle = bundleIsFresh();
// Node ≥ 22.1 keeps V8's compiled code of the modules on disk (NODE_COMPILE_CACHE or the OS temp
// folder) and reuses it on the next start. Node 20 has no such API: there the bin gives V8 the code
// cache that the build made for each chunk of the bundle (see useCodeCache).
// REWARDKIT_CODE_CACHE=off compiles the chunks as plain Node does (to rule the cache out).
if (typeof Module.enableCompileCache === 'function') Module.enableCompileCache();
else if (useBundle && process.env.REWARDKIT_CODE_CACHE !== 'off') useCodeCache(codeCacheDir(), process.env.REWARDKIT_CODE_CACHE === 'write');

/**
 * The folder of the code cache for the Node flags this process runs with (its command line's and
 * NODE_OPTIONS'), since V8 accepts a cache only under the flags it was made with:
 * dist/cli-bundle/code-cache/max-old-space-size=1024 for `rewardkit …` (the shebang's flags),
 * …/no-flags for `node bin/rewardkit.cjs …`. The build makes those two; other flags find no folder.
 */
function codeCacheDir() {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  const name = flags === '' ? 'no-flags' : flags.replace(/^-+/, '').replace(/[^\w=.,-]+/g, '_');
  return join(bundleDir, 'code-cache', name.length <= 120 ? name : 'long-flags');
}

/**
 * Compiles the bundle's chunks (dist/cli-bundle/NAME-HASH.cjs) as Node would, but
 * through `vm.Script` with V8's code cache of the chunk (`DIR/NAME.v8`, made by scripts/bundle-cli.mjs
 * at build time): V8 then deserialises the bytecode of the chunk and of every function the build's runs
 * called instead of parsing and compiling them (~30 ms of `rewardkit score`'s start-up here). V8 checks
 * each cache (its V8 version, flags and source length) and compiles from source when it rejects one;
 * after a rejection (e.g. another Node than the build's) the other caches are not read.
 * Only files whose name carries a hash of their content are compiled this way (not main.cjs, the stub
 * that requires main-HASH.cjs, nor dynamic-import.cjs), so a cache cannot meet other code of the same length.
 * With `write` (the build's runs: REWARDKIT_CODE_CACHE=write), it writes at exit the cache of every chunk
 * this process compiled, with the functions that ran.
 * The chunks see the same `require`, `module`, `exports`, `__filename` and `__dirname` as under Node's
 * own compile; other files (packages, user modules) are compiled by Node as usual.
 */
function useCodeCache(dir, write) {
  const { readFileSync, mkdirSync, writeFileSync, renameSync } = require('node:fs');
  const { basename, dirname } = require('node:path');
  const vm = require('node:vm');
  const compile = Module.prototype._compile;
  const scripts = new Map();
  let reading = write || statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true;
  Module.prototype._compile = function (content, filename, ...rest) {
    if (dirname(filename) !== bundleDir || !/-[A-Z0-9]{8}\.cjs$/.test(filename)) return compile.call(this, content, filename, ...rest);
    let cachedData;
    if (reading) {
      try {
        cachedData = readFileSync(join(dir, `${basename(filename)}.v8`));
      } catch {}
    }
    const script = new vm.Script(Module.wrap(content), { filename, cachedData });
    if (cachedData !== undefined && script.cachedDataRejected && !write) reading = false;
    if (write) scripts.set(filename, script);
    const mod = this;
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.cache = Module._cache;
    require.extensions = Module._extensions;
    return script.runInThisContext({ displayErrors: true }).call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
  };
  if (write) {
    process.on('exit', () => {
      mkdirSync(dir, { recursive: true });
      for (const [filename, script] of scripts) {
        const file = join(dir, `${basename(filename)}.v8`);
        writeFileSync(`${file}.${process.pid}`, script.createCachedData());
        renameSync(`${file}.${process.pid}`, file);
      }
    });
  }
}

function bundleIsFresh() {
  if (process.env.REWARDKIT_NO_BUNDLE) return false;
  try {
    return statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs;
  } catch {
    return false;
  }
}
const cli = useBundle ? Promise.resolve(require(bundle)) : import(pathToFileURL(compiled).href);
cli
  .then(({ main }) => main(process.argv))
  .then((code) => {
    process.exitCode = code;
  });
