/**
 * Where the CPU of a warm-pool run goes (docs/warm-pool.md, "Cost"): runs N trivial programs at the
 * pool's concurrency (WIDTH=n to change it) and splits the CPU time and minor page faults per run
 * between this (host) process, the slots' forkers, their workers and the programs' processes (the
 * forkers' and workers' reaped children), from /proc/PID/stat, next to the whole machine's busy time
 * (/proc/stat: other load included). Only the slots alive when the measurement starts are counted:
 * it says so when slots were started or stopped meanwhile. Needs root.
 * Run: N=300 npx tsx bench/pool-profile.ts
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runIoCases } from '../src/graders/code/harness/index.js';
import { runInSandbox, sandboxConfig } from '../src/graders/code/index.js';
import { warmZygotePids } from '../src/graders/code/pool/warm.js';
import { pooled } from './spawn.js';

const HZ = 100;
function stat(pid: number | 'self') {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
  // fields from 3: state(0) ppid(1) ... minflt(7) cminflt(8) majflt(9) cmajflt(10) utime(11) stime(12) cutime(13) cstime(14)
  return { minflt: f[7]!, cminflt: f[8]!, utime: f[11]! / HZ, stime: f[12]! / HZ, cutime: f[13]! / HZ, cstime: f[14]! / HZ };
}
function machine() {
  const l = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  const idle = l[3]! + l[4]!;
  const total = l.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / HZ, user: (l[0]! + l[1]!) / HZ, sys: (l[2]! + l[5]! + l[6]!) / HZ };
}
/** Per slot: the forker (the launched process, outside the slot's pid namespace; its reaped children are the programs' processes) and the worker (its first child, pid 1 of the slot). */
function slots(): { forker: number; worker: number }[] {
  const out: { forker: number; worker: number }[] = [];
  for (const p of warmZygotePids()) {
    try {
      const kids = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      const worker = kids.find((k) => /^NSpid:.*\t1$/m.test(readFileSync(`/proc/${k}/status`, 'utf8')));
      if (worker !== undefined) out.push({ forker: p, worker });
    } catch {}
  }
  return out;
}
// IO_CASES=k: each run is a program's k stdin/stdout cases through the code harness (runIoCases:
// one supervisor process forking a process per case); figures are then per case.
const ioCases = Number(process.env.IO_CASES ?? 0);
const run = async (i: number) => {
  if (ioCases > 0) {
    const rs = await runIoCases('print(input())\n', Array.from({ length: ioCases }, (_, k) => `line ${i} ${k}`), { timeoutMs: 30_000 });
    if (rs.some((r, k) => r === null || r.stdout !== `line ${i} ${k}\n`)) throw new Error(`io cases: ${JSON.stringify(rs.find((r) => r === null || r.status !== 'ok'))}`);
    return;
  }
  const r = await runInSandbox({ language: 'python', code: 'print(input())\n', stdin: `line ${i}\n`, limits: { timeoutMs: 30_000 } });
  if (r.stdout !== `line ${i}\n`) throw new Error(`${r.status} ${r.message}`);
};
const width = Number(process.env.WIDTH ?? sandboxConfig().concurrency);
const n = Number(process.env.N ?? 300);
await pooled(8, width, run);
const ws = slots();
const alive = (p: number) => {
  try {
    stat(p);
    return true;
  } catch {
    return false;
  }
};
const snap = () => ws.map((w) => ({ f: alive(w.forker) ? stat(w.forker) : null, w: alive(w.worker) ? stat(w.worker) : null }));
const mem = (p: number) => (readFileSync(`/proc/${p}/status`, 'utf8').match(/^(VmRSS|RssAnon|RssFile|VmPTE):.*$/gm) ?? []).map((l) => l.replace(/\s+/g, ' ')).join(', ');
if (ws[0]) console.log(`forker ${mem(ws[0].forker)}\nworker ${mem(ws[0].worker)}`);
const w0 = snap();
const h0 = stat('self');
const c0 = process.cpuUsage();
const m0 = machine();
const t = performance.now();
await pooled(n, width, run);
const ms = performance.now() - t;
const m1 = machine();
const c1 = process.cpuUsage();
const h1 = stat('self');
const w1 = snap();
const per = (x: number) => ((x * 1000) / (n * Math.max(1, ioCases))).toFixed(2);
let wu = 0, wsy = 0, pu = 0, ps = 0, wf = 0, pf = 0, fu = 0, fs = 0, ff = 0;
w1.forEach((b, i) => {
  const a = w0[i]!;
  if (a.w && b.w) { wu += b.w.utime - a.w.utime; wsy += b.w.stime - a.w.stime; wf += b.w.minflt - a.w.minflt; pu += b.w.cutime - a.w.cutime; ps += b.w.cstime - a.w.cstime; pf += b.w.cminflt - a.w.cminflt; }
  if (a.f && b.f) { fu += b.f.utime - a.f.utime; fs += b.f.stime - a.f.stime; ff += b.f.minflt - a.f.minflt; pu += b.f.cutime - a.f.cutime; ps += b.f.cstime - a.f.cstime; pf += b.f.cminflt - a.f.cminflt; }
});
console.log(`width ${width}, ${n} runs, ${(n / (ms / 1000)).toFixed(1)} runs/s, ${(ms / n).toFixed(2)} ms/run wall; slots (forker/worker) ${ws.map((w) => `${w.forker}/${w.worker}`).join(',')}`);
console.log(`host node   : user ${per((c1.user - c0.user) / 1e6)} sys ${per((c1.system - c0.system) / 1e6)} ms/run, minflt ${((h1.minflt - h0.minflt) / n).toFixed(0)}/run`);
console.log(`forkers     : user ${per(fu)} sys ${per(fs)} ms/run, minflt ${(ff / n).toFixed(0)}/run`);
console.log(`workers     : user ${per(wu)} sys ${per(wsy)} ms/run, minflt ${(wf / n).toFixed(0)}/run`);
console.log(`programs    : user ${per(pu)} sys ${per(ps)} ms/run, minflt ${(pf / n).toFixed(0)}/run`);
console.log(`machine     : busy ${per(m1.busy - m0.busy)} (user ${per(m1.user - m0.user)} sys ${per(m1.sys - m0.sys)}) ms/run of ${((cpus().length * ms) / n).toFixed(2)} available`);
const before = ws.map((w) => w.forker).join(',');
const after = slots().map((w) => w.forker).join(',');
if (before !== after) console.log(`(slots changed during the measurement: ${before} → ${after}; the figures above count only the first)`);
process.exit(0);
