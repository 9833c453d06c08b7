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
// Node ≥ 22.1 keeps V8's compiled code of the modules on disk (NODE_COMPILE_CACHE or the OS temp
// folder) and reuses it on the next start; Node 20 has no such API (then this is a no-op).
require('node:module').enableCompileCache?.();

const bundle = join(__dirname, '..', 'dist', 'cli-bundle', 'main.cjs');
const compiled = join(__dirname, '..', 'dist', 'cli', 'main.js');
function bundleIsFresh() {
  if (process.env.REWARDKIT_NO_BUNDLE) return false;
  try {
    return statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs;
  } catch {
    return false;
  }
}
const cli = bundleIsFresh() ? Promise.resolve(require(bundle)) : import(pathToFileURL(compiled).href);
cli
  .then(({ main }) => main(process.argv))
  .then((code) => {
    process.exitCode = code;
  });
