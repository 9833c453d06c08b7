/**
 * JavaScript (Node) sources of the two processes of a harnessed test; the same protocol as the Python
 * pair in `python.ts`:
 *
 * - {@link JS_RUNNER}: the untrusted *program process*. Node cannot re-point fd 1, so the runner makes
 *   `process.stdout` the stderr stream and writes the protocol with `fs.writeSync(1, …)` itself.
 *   The program is compiled as the body of a CommonJS-style function (`require`, `module`, `exports`)
 *   followed by `return (name) => eval(name)`, which resolves the names the harness asks for in the
 *   program's own scope (function, `let`/`const`/`class` declarations, globals). While the program
 *   loads, reading stdin (`fs.readFileSync(0)`) gives an empty text.
 * - {@link JS_HARNESS}: the trusted *harness process*. It binds the program's names as configurable
 *   globals holding `Proxy` objects (calls, `new`, property reads and writes, iteration go to the
 *   program; `valueOf`/`toString`/`Symbol.toPrimitive` stay local, so a handle equals only itself),
 *   then runs the test block with `vm.runInThisContext`, Node's own `require` and `assert`. Program
 *   replies are read with blocking `fs.readSync(0)`, so test code stays synchronous.
 */

const JS_COMMON = String.raw`
const fs = require('fs');
const rkWriteSync = fs.writeSync;
const rkSleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
function rkWrite(text) {
  const b = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < b.length) {
    try {
      off += rkWriteSync(1, b, off, b.length - off);
    } catch (e) {
      if (e && e.code === 'EAGAIN') { rkSleep(1); continue; }
      throw e;
    }
  }
}
function rkSend(obj) { rkWrite(JSON.stringify(obj) + '\n'); }
function rkNum(v) {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}
// ES-module syntax at the top level (static imports and exports) rewritten to CommonJS, for
// programs and test blocks written as modules: import X / {a, b as c} / * as X from 'm', import 'm',
// export [default] declarations, export { … }.
function rkDesugarEsm(src) {
  return src
    .replace(/^[ \t]*import\s+\*\s+as\s+([\w$]+)\s+from\s+(['"][^'"\n]+['"])\s*;?/gm, 'const $1 = require($2);')
    .replace(/^[ \t]*import\s+([\w$]+)\s*,\s*\{([^}]*)\}\s*from\s+(['"][^'"\n]+['"])\s*;?/gm, (m, d, names, mod) => 'const ' + d + ' = require(' + mod + '); const {' + names.replace(/([\w$]+)\s+as\s+([\w$]+)/g, '$1: $2') + '} = require(' + mod + ');')
    .replace(/^[ \t]*import\s+\{([^}]*)\}\s*from\s+(['"][^'"\n]+['"])\s*;?/gm, (m, names, mod) => 'const {' + names.replace(/([\w$]+)\s+as\s+([\w$]+)/g, '$1: $2') + '} = require(' + mod + ');')
    .replace(/^[ \t]*import\s+([\w$]+)\s+from\s+(['"][^'"\n]+['"])\s*;?/gm, 'const $1 = require($2);')
    .replace(/^[ \t]*import\s+(['"][^'"\n]+['"])\s*;?/gm, 'require($1);')
    .replace(/^[ \t]*export\s+default\s+(?=(async\s+)?function|class)/gm, '')
    .replace(/^[ \t]*export\s+(?=(async\s+)?function|class|const|let|var)/gm, '')
    .replace(/^[ \t]*export\s*\{[^}]*\}\s*(from\s+['"][^'"\n]+['"])?\s*;?/gm, '');
}
function rkLooksEsm(e) { return e instanceof SyntaxError && /import statement|Unexpected token 'export'|Cannot use import|export/.test(String(e.message)); }
const rkErr = process.stderr;
Object.defineProperty(process, 'stdout', { configurable: true, enumerable: false, get: () => rkErr });
`;

export const JS_RUNNER = String.raw`'use strict';
__RK_COMMON__
const vm = require('vm');
const path = require('path');
const { createRequire } = require('module');
const SRC = Buffer.from('__RK_PROGRAM_B64__', 'base64').toString('utf8');
const FILE = path.resolve(process.argv[process.argv.length - 1] || 'prog.js');
const handles = new Map();
const ids = new Map();
function handle(v, self) {
  let h;
  if (self !== undefined && typeof v === 'function') {
    h = handles.size + 1;
    handles.set(h, { v, self });
  } else {
    h = ids.get(v);
    if (h === undefined) {
      h = handles.size + 1;
      handles.set(h, { v });
      ids.set(v, h);
    }
  }
  let r = typeof v;
  try { if (v && v.constructor && typeof v.constructor.name === 'string') r = v.constructor.name; } catch (e) {}
  return { h, r: String(r).slice(0, 100), c: typeof v === 'function' ? 1 : 0 };
}
function enc(v, self) {
  if (v === undefined) return { u: 1 };
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return { n: rkNum(v) };
  if (typeof v === 'bigint') return { bi: v.toString() };
  if (Array.isArray(v)) return { l: Array.from(v, (x) => enc(x)) };
  if (v instanceof Map) return { map: Array.from(v, ([k, x]) => [enc(k), enc(x)]) };
  if (v instanceof Set) return { set: Array.from(v, (x) => enc(x)) };
  if (typeof v === 'object') {
    const p = Object.getPrototypeOf(v);
    if (p === Object.prototype || p === null) return { o: Object.keys(v).map((k) => [k, enc(v[k])]) };
  }
  return handle(v, self);
}
function dec(v) {
  if (v === null || typeof v !== 'object') return v;
  if ('n' in v) return v.n === 'nan' ? NaN : v.n === 'inf' ? Infinity : v.n === '-inf' ? -Infinity : Number(v.n);
  if ('bi' in v) return BigInt(v.bi);
  if ('u' in v) return undefined;
  if ('j' in v) return JSON.parse(v.j);
  if ('l' in v) return v.l.map(dec);
  if ('map' in v) return new Map(v.map.map(([k, x]) => [dec(k), dec(x)]));
  if ('set' in v) return new Set(v.set.map(dec));
  if ('o' in v) { const o = {}; for (const [k, x] of v.o) Object.defineProperty(o, k, { value: dec(x), writable: true, enumerable: true, configurable: true }); return o; }
  if ('h' in v) { const e = handles.get(v.h); if (!e) throw new Error('unknown handle'); return e.self !== undefined ? e.v.bind(e.self) : e.v; }
  throw new Error('bad value');
}
const mutable = (a) => Array.isArray(a) || a instanceof Map || a instanceof Set || (a !== null && typeof a === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(a)));
let lookupFn = null;
const mod = { exports: {} };
function lookup(n) {
  if (typeof lookupFn === 'function') {
    try { return { found: true, v: lookupFn(n) }; } catch (e) { /* not defined */ }
  }
  if (mod.exports && typeof mod.exports === 'object' && Object.prototype.hasOwnProperty.call(mod.exports, n)) return { found: true, v: mod.exports[n] };
  return { found: false };
}
async function op(m) {
  switch (m.op) {
    case 'lookup': {
      const out = {};
      for (const n of m.names) { const r = lookup(n); if (r.found) out[n] = enc(r.v); }
      return { ok: out };
    }
    case 'callfn': {
      // The function under test must be the program's own, never a global it did not define
      // (fn_name 'parseInt' with an empty program is no answer).
      let f = ownLookup(m.name);
      let fn;
      if (f.found && typeof f.v === 'function') fn = f.v;
      else {
        const s = ownLookup('Solution');
        if (!s.found) throw new ReferenceError(m.name + ' is not defined by the program');
        const inst = new s.v();
        fn = inst[m.name].bind(inst);
      }
      let r = fn(...m.a.map(dec));
      if (r instanceof Promise) r = await r;
      return { ok: enc(r) };
    }
    case 'call': {
      const e = handles.get(m.o.h);
      if (!e) throw new Error('unknown handle');
      const args = m.a.map(dec);
      let r = e.self !== undefined ? Reflect.apply(e.v, e.self, args) : e.v(...args);
      if (r instanceof Promise) r = await r;
      return { ok: enc(r), mut: args.map((a) => (mutable(a) ? enc(a) : null)) };
    }
    case 'new': {
      const e = handles.get(m.o.h);
      if (!e) throw new Error('unknown handle');
      return { ok: enc(Reflect.construct(e.v, m.a.map(dec))) };
    }
    case 'getattr': { const o = dec(m.o); return { ok: enc(o[m.name], o) }; }
    case 'setattr': { const o = dec(m.o); o[m.name] = dec(m.v); return { ok: null }; }
    case 'iter': { const o = dec(m.o); return { ok: handle(o[Symbol.iterator]()) }; }
    case 'next': { const o = dec(m.o); const r = o.next(); return { ok: { l: [Boolean(r.done), enc(r.value)] } }; }
    case 'len': { const o = dec(m.o); return { ok: enc(o.length) }; }
    case 'bool': { const o = dec(m.o); return { ok: Boolean(o) }; }
    case 'str': { const o = dec(m.o); return { ok: String(o) }; }
    default: throw new Error('unknown op');
  }
}
async function serve(line) {
  let m;
  try { m = JSON.parse(line); } catch (e) { return; }
  let msg;
  try {
    msg = Object.assign({ id: m.id }, await op(m));
  } catch (e) {
    let type = 'Error', text = '';
    try { type = String(e && e.constructor && e.constructor.name || typeof e); text = String(e && e.message !== undefined ? e.message : e).slice(0, 2000); } catch (x) {}
    try { rkErr.write((e && e.stack ? String(e.stack) : String(e)).slice(0, 2000) + '\n'); } catch (x) {}
    msg = { id: m.id, err: { type, msg: text } };
  }
  rkSend(msg);
}
const params = ['exports', 'require', 'module', '__filename', '__dirname'];
// What every global name (own or inherited: toString) held before the program ran: a name that still
// resolves to that value is not the program's.
const rkPre = new Map();
for (let o = globalThis; o !== null; o = Object.getPrototypeOf(o))
  for (const k of Object.getOwnPropertyNames(o)) {
    if (rkPre.has(k)) continue;
    const d = Object.getOwnPropertyDescriptor(o, k);
    rkPre.set(k, 'value' in d ? { v: d.value } : { get: d.get });
  }
function ownLookup(n) {
  const r = lookup(n);
  if (!r.found) return r;
  const p = rkPre.get(n);
  if (p === undefined) return r;
  let orig;
  try { orig = 'v' in p ? p.v : p.get ? p.get.call(globalThis) : undefined; } catch (e) { orig = undefined; }
  return r.v === orig ? { found: false } : r;
}
let compiled;
try {
  let src = SRC;
  try {
    vm.compileFunction(src, params, { filename: FILE });
  } catch (e) {
    if (!rkLooksEsm(e)) throw e;
    src = rkDesugarEsm(src);
    vm.compileFunction(src, params, { filename: FILE });
  }
  compiled = vm.compileFunction(src + '\n;return function (__rk_name) { return eval(__rk_name); };', params, { filename: FILE });
} catch (e) {
  rkErr.write(String(e && e.stack || e) + '\n');
  rkSend({ hello: { compile_error: String(e && e.message || e) } });
  process.reallyExit(0);
}
const realReadFileSync = fs.readFileSync;
const realReadSync = fs.readSync;
fs.readFileSync = function (p, opts) {
  if (p === 0 || p === '/dev/stdin') {
    const enc = typeof opts === 'string' ? opts : opts && opts.encoding;
    return enc ? '' : Buffer.alloc(0);
  }
  return realReadFileSync.apply(this, arguments);
};
fs.readSync = function (fd) { return fd === 0 ? 0 : realReadSync.apply(this, arguments); };
let loadError = null;
try {
  const r = compiled.call(mod.exports, mod.exports, createRequire(FILE), mod, FILE, path.dirname(FILE));
  if (typeof r === 'function') lookupFn = r;
} catch (e) {
  rkErr.write(String(e && e.stack || e) + '\n');
  loadError = 'the program threw while loading: ' + String(e && e.message || e).slice(0, 500);
}
if (fs.readFileSync !== realReadFileSync && fs.readFileSync.name === '') { /* replaced by the program */ }
fs.readFileSync = realReadFileSync;
fs.readSync = realReadSync;
if (loadError !== null) {
  rkSend({ hello: { error: loadError } });
  process.reallyExit(0);
}
rkSend({ hello: { ok: 1 } });
let buf = '';
let chain = Promise.resolve();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    chain = chain.then(() => serve(line));
  }
});
process.stdin.on('end', () => { chain.then(() => process.reallyExit(0)); });
`.replace('__RK_COMMON__', () => JS_COMMON);

export const JS_HARNESS = String.raw`'use strict';
__RK_COMMON__
const vm = require('vm');
const assert = require('assert');
const { builtinModules } = require('module');
const TOKEN = '__RK_TOKEN__';
const BLOCK = Buffer.from('__RK_BLOCK_B64__', 'base64').toString('utf8');
const state = { cannot: null, ended: null, protocol: null };
const ABORT = Symbol('rk-abort');
let verdictSent = false;
function verdict(kind, message) {
  if (verdictSent) return;
  verdictSent = true;
  rkWrite(TOKEN + ' ' + JSON.stringify({ verdict: kind, message: String(message === undefined ? '' : message).slice(0, 2000) }) + '\n');
}
function flag(kind, msg) {
  if (state[kind] === null) state[kind] = msg;
  throw ABORT;
}
let inbuf = Buffer.alloc(0);
const realReadSync = fs.readSync;
function readLine() {
  for (;;) {
    const i = inbuf.indexOf(10);
    if (i >= 0) {
      const line = inbuf.subarray(0, i).toString('utf8');
      inbuf = inbuf.subarray(i + 1);
      return line;
    }
    const chunk = Buffer.alloc(1 << 16);
    let n;
    try {
      n = realReadSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e && e.code === 'EAGAIN') { rkSleep(1); continue; }
      if (e && e.code === 'EOF') n = 0; else throw e;
    }
    if (n === 0) return null;
    inbuf = Buffer.concat([inbuf, chunk.subarray(0, n)]);
  }
}
function recv() {
  const line = readLine();
  if (line === null) flag('ended', 'the program process ended before answering');
  try { return JSON.parse(line); } catch (e) { flag('protocol', 'the program process wrote something that is not a protocol message'); }
}
const bad = (what) => flag('protocol', 'malformed reply from the program process: ' + what);
const NUM = /^-?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|nan|inf|0x[0-9a-f]+)$/i;
const proxies = new Map();
const COERCING = new Set(['valueOf', 'toString', 'toLocaleString', 'toJSON', 'then', 'constructor', 'inspect']);
const proxyIds = new WeakMap();
function dec(v) {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v !== 'object' || Array.isArray(v)) bad('value of type ' + typeof v);
  const keys = Object.keys(v);
  if (keys.includes('n')) {
    if (typeof v.n !== 'string' || !NUM.test(v.n) && v.n !== '-inf' && v.n !== '-0') bad('number');
    return v.n === 'nan' ? NaN : v.n === 'inf' ? Infinity : v.n === '-inf' ? -Infinity : Number(v.n);
  }
  if (keys.includes('bi')) { if (typeof v.bi !== 'string' || !/^-?\d+$/.test(v.bi)) bad('bigint'); return BigInt(v.bi); }
  if (keys.includes('u')) return undefined;
  if (keys.includes('l')) { if (!Array.isArray(v.l)) bad('array'); return v.l.map(dec); }
  if (keys.includes('set')) { if (!Array.isArray(v.set)) bad('set'); return new Set(v.set.map(dec)); }
  if (keys.includes('map')) {
    if (!Array.isArray(v.map)) bad('map');
    const m = new Map();
    for (const kv of v.map) { if (!Array.isArray(kv) || kv.length !== 2) bad('map entry'); m.set(dec(kv[0]), dec(kv[1])); }
    return m;
  }
  if (keys.includes('o')) {
    if (!Array.isArray(v.o)) bad('object');
    const o = {};
    for (const kv of v.o) {
      if (!Array.isArray(kv) || kv.length !== 2 || typeof kv[0] !== 'string') bad('object entry');
      const x = dec(kv[1]);
      // A plain object must stay plain: no program function where the harness would call it implicitly.
      if (COERCING.has(kv[0]) && (typeof x === 'function' || (x !== null && typeof x === 'object' && proxyIds.has(x)))) bad('an object whose ' + kv[0] + ' is a program function');
      Object.defineProperty(o, kv[0], { value: x, writable: true, enumerable: true, configurable: true });
    }
    return o;
  }
  if (keys.includes('h')) {
    if (!Number.isSafeInteger(v.h)) bad('handle');
    return remote(v.h, String(v.r === undefined ? 'object' : v.r).slice(0, 100), v.c === 1);
  }
  bad('unknown tag');
}
function isPlainObject(v) { const p = Object.getPrototypeOf(v); return p === Object.prototype || p === null; }
function enc(v, depth) {
  depth = depth || 0;
  if (depth > 200) flag('cannot', 'a value passed to the program is nested too deeply');
  if (v === undefined) return { u: 1 };
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return { n: rkNum(v) };
  if (typeof v === 'bigint') return { bi: v.toString() };
  if ((typeof v === 'object' || typeof v === 'function') && proxyIds.has(v)) return { h: proxyIds.get(v) };
  if (Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype) return { l: Array.from(v, (x) => enc(x, depth + 1)) };
  if (v instanceof Map && Object.getPrototypeOf(v) === Map.prototype) return { map: Array.from(v, ([k, x]) => [enc(k, depth + 1), enc(x, depth + 1)]) };
  if (v instanceof Set && Object.getPrototypeOf(v) === Set.prototype) return { set: Array.from(v, (x) => enc(x, depth + 1)) };
  if (typeof v === 'object' && isPlainObject(v)) return { o: Object.keys(v).map((k) => [k, enc(v[k], depth + 1)]) };
  flag('cannot', 'the test passes a ' + (typeof v === 'function' ? 'function' : 'non-plain object') + ' to the program, which the harness cannot transfer');
}
const ERRORS = ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError'];
function raise(err) {
  if (err === null || typeof err !== 'object') bad('error');
  const name = String(err.type).slice(0, 100);
  const msg = String(err.msg);
  if (ERRORS.includes(name)) throw new globalThis[name](msg);
  const e = new Error(name + ': ' + msg);
  e.name = 'RemoteError';
  throw e;
}
let nextId = 0;
function rpc(opName, fields) {
  const id = ++nextId;
  rkSend(Object.assign({ id, op: opName }, fields));
  const rep = recv();
  if (rep === null || typeof rep !== 'object' || rep.id !== id) bad('reply out of order');
  if (rep.err !== undefined) raise(rep.err);
  if (!('ok' in rep)) bad('reply without a value');
  return rep;
}
const value = (opName, fields) => dec(rpc(opName, fields).ok);
function replaceContents(orig, next) {
  if (Array.isArray(orig) && Array.isArray(next)) { orig.length = 0; orig.push(...next); }
  else if (orig instanceof Map && next instanceof Map) { orig.clear(); for (const [k, x] of next) orig.set(k, x); }
  else if (orig instanceof Set && next instanceof Set) { orig.clear(); for (const x of next) orig.add(x); }
  else if (orig && typeof orig === 'object' && isPlainObject(orig) && next && typeof next === 'object' && isPlainObject(next)) {
    for (const k of Object.keys(orig)) delete orig[k];
    for (const k of Object.keys(next)) Object.defineProperty(orig, k, { value: next[k], writable: true, enumerable: true, configurable: true });
  }
}
function callRemote(p, args) {
  const rep = rpc('call', { o: { h: proxyIds.get(p) }, a: args.map((x) => enc(x)) });
  const result = dec(rep.ok);
  if (Array.isArray(rep.mut)) {
    rep.mut.slice(0, args.length).forEach((m, i) => { if (m !== null) replaceContents(args[i], dec(m)); });
  }
  return result;
}
function* remoteIterator(p) {
  const it = value('iter', { o: { h: proxyIds.get(p) } });
  if (!proxyIds.has(it)) bad('iterator');
  for (;;) {
    const r = value('next', { o: { h: proxyIds.get(it) } });
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'boolean') bad('next');
    if (r[0]) return;
    yield r[1];
  }
}
function remote(h, r, callable) {
  if (proxies.has(h)) return proxies.get(h);
  const label = '[program ' + r + ' #' + h + ']';
  const target = callable ? function () {} : {};
  const p = new Proxy(target, {
    apply(_t, _this, args) { return callRemote(p, args); },
    construct(_t, args) { return value('new', { o: { h }, a: args.map((x) => enc(x)) }); },
    get(_t, key) {
      if (typeof key === 'symbol') {
        if (key === Symbol.iterator) return function () { return remoteIterator(p); };
        if (key === Symbol.toPrimitive) return function () { return label; };
        return undefined;
      }
      if (key === 'then' || key === 'toJSON') return undefined;
      if (key === 'valueOf') return function () { return p; };
      if (key === 'toString' || key === 'toLocaleString') return function () { return label; };
      if (key === 'length' && !callable) return value('len', { o: { h } });
      return value('getattr', { o: { h }, name: key });
    },
    set(_t, key, v) { if (typeof key === 'symbol') return false; value('setattr', { o: { h }, name: key, v: enc(v) }); return true; },
  });
  proxies.set(h, p);
  proxyIds.set(p, h);
  return p;
}
const KEYWORDS = new Set(('break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof ' +
  'let new null return super switch this throw true try typeof var void while with yield async await of static get set undefined NaN Infinity arguments eval ' +
  'require module exports __filename __dirname').split(' '));
function identifiers(src) {
  const stripped = src
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, ' ')
    .replace(/\.\.\./g, ' ');
  const out = new Set();
  for (const m of stripped.matchAll(/(?<![\w$.])[A-Za-z_$][\w$]*/g)) out.add(m[0]);
  return [...out];
}
function memberBase(src, n) { return new RegExp('(?<![\\w$.])' + n + '\\s*(\\?\\.|\\.|\\[)').test(src); }
class ExitSignal { constructor(code) { this.code = code; } }
function main() {
  let script;
  try {
    try { script = new vm.Script(BLOCK, { filename: 'test.js' }); } catch (e) { if (!rkLooksEsm(e)) throw e; script = new vm.Script(rkDesugarEsm(BLOCK), { filename: 'test.js' }); }
  } catch (e) { verdict('bad_test', 'the test block does not compile: ' + e.message); return Promise.resolve(); }
  const builtins = new Set(builtinModules);
  const ask = [];
  // Node's own modules used as "name.member" are the harness's (never the program's object of that
  // name); used only as a plain name (a program function called 'path') they are asked for.
  const ownModules = [];
  for (const n of identifiers(BLOCK)) {
    if (KEYWORDS.has(n)) continue;
    if (builtins.has(n)) {
      ownModules.push(n);
      if (memberBase(BLOCK, n)) continue;
    } else if (n in globalThis) continue;
    ask.push(n);
  }
  const bindModule = (n) => Object.defineProperty(globalThis, n, { value: require(n), writable: true, configurable: true });
  for (const n of ownModules) if (memberBase(BLOCK, n)) bindModule(n);
  globalThis.require = require;
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
  try {
    const hello = recv();
    if (hello === null || typeof hello !== 'object' || hello.hello === null || typeof hello.hello !== 'object') bad('hello');
    if ('compile_error' in hello.hello) { verdict('compile_error', hello.hello.compile_error); return Promise.resolve(); }
    if ('error' in hello.hello) { verdict('load_error', hello.hello.error); return Promise.resolve(); }
    if (ask.length > 0) {
      const found = rpc('lookup', { names: ask }).ok;
      if (found === null || typeof found !== 'object' || Array.isArray(found)) bad('lookup');
      for (const n of Object.keys(found)) {
        if (!ask.includes(n)) continue;
        Object.defineProperty(globalThis, n, { value: dec(found[n]), writable: true, configurable: true });
      }
      for (const n of ownModules) if (!memberBase(BLOCK, n) && !(Object.prototype.hasOwnProperty.call(found, n) && typeof globalThis[n] === 'function')) bindModule(n);
    }
  } catch (e) {
    if (e !== ABORT) throw e;
  }
  const classify = (e) => {
    if (e === ABORT) return ['pass', ''];
    if (e instanceof ExitSignal) return e.code === undefined || e.code === 0 ? ['pass', ''] : ['fail', 'the test exited with ' + e.code];
    if (e instanceof assert.AssertionError) return ['fail', 'AssertionError: ' + e.message];
    return ['error', (e && e.name ? e.name + ': ' : '') + (e && e.message !== undefined ? e.message : String(e))];
  };
  let outcome = ['pass', ''];
  const realExit = process.exit;
  process.exit = (code) => { throw new ExitSignal(code); };
  process.on('unhandledRejection', (e) => { if (outcome[0] === 'pass') outcome = classify(e); });
  const finish = () => {
    if (state.cannot !== null) verdict('cannot', state.cannot);
    else if (state.ended !== null) verdict('ended', state.ended);
    else if (state.protocol !== null) verdict('protocol', state.protocol);
    else if (outcome[0] === 'pass' && process.exitCode) verdict('fail', 'the test set exit code ' + process.exitCode);
    else verdict(outcome[0], outcome[1]);
  };
  if (Object.values(state).some((s) => s !== null)) { finish(); return Promise.resolve(); }
  let res;
  try {
    res = script.runInThisContext();
  } catch (e) {
    outcome = classify(e);
    finish();
    return Promise.resolve();
  }
  return Promise.resolve(res && typeof res.then === 'function' && !proxyIds.has(res) ? res : undefined)
    .then(() => {}, (e) => { outcome = classify(e); })
    // The verdict waits until the event loop is empty: timers, promises and node:test runs (which
    // report failures through process.exitCode) have all finished.
    .then(() => new Promise((r) => process.once('beforeExit', r)))
    .then(finish);
}
let done;
try { done = main(); } catch (e) { verdict('error', 'harness: ' + (e && e.message || String(e))); done = Promise.resolve(); }
done.then(() => process.reallyExit(0), (e) => { verdict('error', 'harness: ' + (e && e.message || String(e))); process.reallyExit(0); });
`.replace('__RK_COMMON__', () => JS_COMMON);

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The program process's source for `program`. */
export function javascriptRunner(program: string): string {
  return JS_RUNNER.replace('__RK_PROGRAM_B64__', () => b64(program));
}

/** The harness process's source for one test block; `token` starts each verdict line. */
export function javascriptHarness(block: string, token: string): string {
  return JS_HARNESS.replace('__RK_TOKEN__', () => token).replace('__RK_BLOCK_B64__', () => b64(block));
}
