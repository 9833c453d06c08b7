#!/usr/bin/env -S node --max-old-space-size=1024
// `node bin/rewardkit.js …` as earlier versions documented it: runs the package's bin, bin/rewardkit.cjs
// (read it for what the CLI does at start). Starting Node on this ES module costs its module loader
// (~10 ms); the `rewardkit` command runs bin/rewardkit.cjs directly.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./rewardkit.cjs');
