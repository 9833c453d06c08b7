#!/usr/bin/env -S node --max-old-space-size=1024
// The heap cap makes V8 collect before growing: streaming 1M rollouts peaks at ~190 MB RSS instead of
// ~290 MB, at no measurable cost. Run `node --max-old-space-size=N bin/rewardkit.js …` for another cap.
// Entry point for `npx rewardkit`: runs the compiled CLI (built by `npm run build`, which `npm ci` runs as `prepare`).
// It prefers the start-up bundle (dist/cli-bundle, scripts/bundle-cli.mjs) when that is at least as new as
// dist/cli/main.js, so a bare `tsc` rebuild never runs stale code; REWARDKIT_NO_BUNDLE=1 forces dist/cli.
import { statSync } from 'node:fs';
import * as nodeModule from 'node:module';

// Node ≥ 22.1 keeps V8's compiled code of the modules on disk (NODE_COMPILE_CACHE or the OS temp
// folder) and reuses it on the next start; Node 20 has no such API (then this is a no-op).
nodeModule.enableCompileCache?.();

const bundle = new URL('../dist/cli-bundle/main.js', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
function bundleIsFresh() {
  if (process.env.REWARDKIT_NO_BUNDLE) return false;
  try {
    return statSync(bundle).mtimeMs >= statSync(compiled).mtimeMs;
  } catch {
    return false;
  }
}
const { main } = await import(bundleIsFresh() ? bundle.href : compiled.href);
main(process.argv).then((code) => { process.exitCode = code; });
