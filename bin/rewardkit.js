#!/usr/bin/env node
// Entry point for `npx rewardkit`: runs the compiled CLI (built by `npm run build`, which `npm ci` runs as `prepare`).
import { main } from '../dist/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
