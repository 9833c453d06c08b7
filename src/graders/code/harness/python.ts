/**
 * Python sources of the two processes of a harnessed test (see `harness/index.ts`):
 *
 * - {@link PY_RUNNER}: the *program process*. It takes the protocol descriptors for itself (fd 0/1 are
 *   duplicated, then fd 0 becomes an empty pipe and fd 1 the program's stderr), runs the completion's
 *   program in a fresh `__main__` namespace, sends a hello line, then serves requests: look names up,
 *   call, get/set attributes and items, iterate, `len`, `in`, `bool`, `str`, and `reset` (before each
 *   assertion block after the first: handles dropped, the program's top level — compiled once — run
 *   again in a new namespace, so no program state carries from one block to the next). Replies carry plain data
 *   only (tagged JSON) or a handle number for anything else. It holds no test and no expected value;
 *   everything in it is untrusted once the program has run (the program may rewrite it — what it can
 *   send is still only tagged JSON, which the harness checks).
 * - {@link PY_HARNESS}: the trusted *harness process*. It runs the test blocks of a rollout one after
 *   another, each in a fresh `__main__` namespace, with the program's names
 *   bound to proxies that forward to the program process, rebuilds plain values from the tagged JSON
 *   (built-in types only; handles compare by identity), and writes a start line before each block and
 *   its verdict after it, both after a per-run token.
 *
 * Placeholders (`__RK_..._B64__`) are replaced with base64 text by {@link pythonRunner}/{@link pythonHarness}.
 */

const PY_COMMON = String.raw`
import sys, os, builtins, binascii
try:
    sys.set_int_max_str_digits(0)
except AttributeError:
    pass
_rk_in_fd = os.dup(0)
_rk_out_fd = os.dup(1)
_r, _w = os.pipe()
os.close(_w)
os.dup2(_r, 0)
os.close(_r)
os.dup2(2, 1)
_rk_in = os.fdopen(_rk_in_fd, 'rb')

# JSON through the json package's own C accelerator (_json), as json.dumps/json.loads use it, without
# importing the package (json imports re and enum: tens of ms per process on a loaded machine);
# the package itself when the accelerator is missing or behaves differently.
def _rk_json_setup():
    import _json
    enc = _json.make_encoder(None, None, _json.encode_basestring_ascii, None, ':', ',', False, False, True)
    class _Ctx:
        pass
    ctx = _Ctx()
    ctx.strict = True
    ctx.object_hook = None
    ctx.object_pairs_hook = None
    ctx.parse_float = float
    ctx.parse_int = int
    ctx.parse_constant = {'-Infinity': float('-inf'), 'Infinity': float('inf'), 'NaN': float('nan')}.__getitem__
    ctx.memo = {}
    scan = _json.make_scanner(ctx)
    ws = ' \t\n\r'
    def dumps(obj):
        return ''.join(enc(obj, 0))
    def loads(s):
        if isinstance(s, (bytes, bytearray)):
            s = bytes(s).decode('utf-8', 'surrogatepass')
        if type(s) is not str:
            raise TypeError('JSON text must be str or bytes')
        n = len(s)
        i = 0
        while i < n and s[i] in ws:
            i += 1
        try:
            obj, end = scan(s, i)
        except StopIteration:
            raise ValueError('invalid JSON')
        while end < n and s[end] in ws:
            end += 1
        if end != n:
            raise ValueError('extra data after JSON')
        return obj
    if dumps({'a': [1, None, True, '\u00e9', {'b': -2}]}) != '{"a":[1,null,true,"\\u00e9",{"b":-2}]}' or loads(' {"a": [1, "x", null, 1.5]} ') != {'a': [1, 'x', None, 1.5]}:
        raise ImportError('unexpected _json behaviour')
    return dumps, loads
try:
    _rk_dumps, _rk_loads = _rk_json_setup()
except Exception:
    import json as _rk_json_mod
    _rk_dumps = lambda obj: _rk_json_mod.dumps(obj, separators=(',', ':'))
    _rk_loads = _rk_json_mod.loads

def _rk_b64d(s):
    return binascii.a2b_base64(s)

def _rk_b64e(b):
    return binascii.b2a_base64(bytes(b), newline=False).decode('ascii')

def _rk_walk(node):
    # ast.walk (breadth first, the same order), without importing the ast package.
    todo = [node]
    k = 0
    while k < len(todo):
        n = todo[k]
        k += 1
        for f in n._fields:
            try:
                v = getattr(n, f)
            except AttributeError:
                continue
            if isinstance(v, _ast.AST):
                todo.append(v)
            elif isinstance(v, list):
                for x in v:
                    if isinstance(x, _ast.AST):
                        todo.append(x)
        yield n

def _rk_parse(src, name='<unknown>'):
    return compile(src, name, 'exec', _ast.PyCF_ONLY_AST)

import _ast

def _rk_send(obj):
    data = (_rk_dumps(obj) + '\n').encode('utf-8', 'surrogatepass')
    view = memoryview(data)
    while view:
        n = os.write(_rk_out_fd, view)
        view = view[n:]
`;

export const PY_RUNNER = String.raw`
__RK_COMMON__
import importlib, types
_RK_SRC = _rk_b64d('__RK_PROGRAM_B64__').decode('utf-8')
_RK_PREFIX = _rk_b64d('__RK_PREFIX_B64__').decode('utf-8')

def _rk_format_exc():
    import traceback
    return traceback.format_exc()
_rk_handles = {}
_rk_ids = {}

def _rk_handle(v):
    k = id(v)
    h = _rk_ids.get(k)
    if h is None:
        h = len(_rk_handles) + 1
        _rk_handles[h] = v
        _rk_ids[k] = h
    return {'h': h, 'r': type(v).__name__, 'c': 1 if callable(v) else 0}

def _rk_enc(v):
    if v is None or v is True or v is False:
        return v
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return {'i': int.__repr__(v)}
    if isinstance(v, float):
        return {'f': float.__repr__(v)}
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, (bytes, bytearray)):
        return {'b': _rk_b64e(v)}
    if isinstance(v, list):
        return {'l': [_rk_enc(x) for x in list.__iter__(v)]}
    if isinstance(v, tuple):
        return {'t': [_rk_enc(x) for x in tuple.__iter__(v)]}
    if isinstance(v, frozenset):
        return {'fs': [_rk_enc(x) for x in frozenset.__iter__(v)]}
    if isinstance(v, set):
        return {'s': [_rk_enc(x) for x in set.__iter__(v)]}
    if isinstance(v, dict):
        return {'d': [[_rk_enc(k), _rk_enc(x)] for k, x in dict.items(v)]}
    if isinstance(v, types.ModuleType):
        return {'m': str(v.__name__)}
    mod = type(v).__module__ or ''
    if mod.split('.')[0] == 'numpy' and hasattr(v, 'tolist'):
        return _rk_enc(v.tolist())
    return _rk_handle(v)

def _rk_dec(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, dict):
        if 'i' in v: return int(v['i'])
        if 'f' in v: return float(v['f'])
        if 'j' in v: return _rk_loads(v['j'])
        if 'b' in v: return _rk_b64d(v['b'])
        if 'l' in v: return [_rk_dec(x) for x in v['l']]
        if 't' in v: return tuple(_rk_dec(x) for x in v['t'])
        if 's' in v: return set(_rk_dec(x) for x in v['s'])
        if 'fs' in v: return frozenset(_rk_dec(x) for x in v['fs'])
        if 'd' in v: return {_rk_dec(k): _rk_dec(x) for k, x in v['d']}
        if 'h' in v: return _rk_handles[v['h']]
        if 'm' in v: return importlib.import_module(v['m'])
    raise ValueError('bad value')

_RK_MUTABLE = (list, dict, set, bytearray)
_rk_ns = {}
_rk_pre = {}
_rk_bound = frozenset()

def _rk_bound_names(src):
    # Names the program's source binds at module level: def/class, assignments, for/with/except
    # targets, imports (a star import: the module's public names), 'global' declarations, walrus.
    ast = _ast
    names = set()
    tree = _rk_parse(src)
    stack = list(tree.body)
    while stack:
        st = stack.pop()
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(st.name)
            continue
        if isinstance(st, ast.Import):
            for a in st.names:
                names.add(a.asname or a.name.split('.')[0])
        elif isinstance(st, ast.ImportFrom):
            for a in st.names:
                if a.name != '*':
                    names.add(a.asname or a.name)
                elif st.level == 0 and st.module:
                    try:
                        mod = importlib.import_module(st.module)
                        names.update(getattr(mod, '__all__', None) or [k for k in vars(mod) if not k.startswith('_')])
                    except BaseException:
                        pass
        targets = []
        if isinstance(st, ast.Assign):
            targets = st.targets
        elif isinstance(st, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            targets = [st.target]
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in st.items if i.optional_vars is not None]
        for t in targets:
            for n in _rk_walk(t):
                if isinstance(n, ast.Name):
                    names.add(n.id)
        for field in ('body', 'orelse', 'finalbody'):
            sub = getattr(st, field, None)
            if isinstance(sub, list):
                stack.extend(sub)
        for h in getattr(st, 'handlers', None) or []:
            if h.name:
                names.add(h.name)
            stack.extend(h.body)
        for c in getattr(st, 'cases', None) or []:
            stack.extend(c.body)
    for n in _rk_walk(tree):
        if isinstance(n, ast.Global):
            names.update(n.names)
        elif isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
            names.add(n.target.id)
    return frozenset(names)

def _rk_own(n):
    # A name is the program's own when its source binds it, or when it holds something the import
    # prefix did not put there (a definition made at run time: globals()[...] = ..., exec).
    if n not in _rk_ns or (n.startswith('__') and n.endswith('__')):
        return False
    return n in _rk_bound or n not in _rk_pre or _rk_ns[n] is not _rk_pre[n]

def _rk_op(m):
    op = m['op']
    if op == 'reset':
        # A fresh program for the next block; with 'names', the lookup of that block in one reply.
        _rk_reset()
        if 'names' not in m:
            return None
        op = 'lookup'
    if op == 'lookup':
        out = {}
        own = []
        for n in m['names']:
            if n in _rk_ns:
                out[n] = _rk_enc(_rk_ns[n])
                if _rk_own(n):
                    own.append(n)
        return (out, own)
    if op == 'callfn':
        # The function under test must be the program's own: never a name that only the import
        # prefix (verl's 'from math import *', 'from builtins import *') or the builtins bound.
        name = m['name']
        if _rk_own(name):
            f = _rk_ns[name]
        elif _rk_own('Solution'):
            f = getattr(_rk_ns['Solution'](), name)
        else:
            raise NameError("name '%s' is not defined by the program" % name)
        return f(*[_rk_dec(a) for a in m['a']])
    o = _rk_dec(m['o'])
    if op == 'call':
        args = [_rk_dec(a) for a in m['a']]
        kw = {k: _rk_dec(x) for k, x in m.get('k', [])}
        r = o(*args, **kw)
        return (r, [_rk_enc(a) if isinstance(a, _RK_MUTABLE) else None for a in args])
    if op == 'getattr': return getattr(o, m['name'])
    if op == 'setattr': setattr(o, m['name'], _rk_dec(m['v'])); return None
    if op == 'getitem': return o[_rk_dec(m['k'])]
    if op == 'setitem': o[_rk_dec(m['k'])] = _rk_dec(m['v']); return None
    if op == 'delitem': del o[_rk_dec(m['k'])]; return None
    if op == 'iter': return ('handle', iter(o))
    if op == 'next': return next(o)
    if op == 'len': return len(o)
    if op == 'contains': return _rk_dec(m['x']) in o
    if op == 'bool': return bool(o)
    if op == 'str': return str(o)
    raise ValueError('unknown op ' + str(op))

def _rk_serve():
    while True:
        line = _rk_in.readline()
        if not line:
            return
        m = _rk_loads(line)
        rid = m.get('id')
        try:
            r = _rk_op(m)
            if m['op'] == 'call':
                msg = {'id': rid, 'ok': _rk_enc(r[0]), 'mut': r[1]}
            elif m['op'] == 'iter':
                msg = {'id': rid, 'ok': _rk_handle(r[1])}
            elif m['op'] == 'lookup' or (m['op'] == 'reset' and 'names' in m):
                msg = {'id': rid, 'ok': r[0], 'own': r[1]}
            else:
                msg = {'id': rid, 'ok': _rk_enc(r)}
        except BaseException as e:
            try:
                text = str(e)[:2000]
            except BaseException:
                text = ''
            msg = {'id': rid, 'err': {'type': type(e).__name__, 'msg': text, 'tb': _rk_format_exc()[-2000:]}}
            try:
                sys.stderr.write(msg['err']['tb'])
            except BaseException:
                pass
        _rk_send(msg)

class _RkLoadExit(Exception):
    pass

def _rk_load():
    # A fresh module namespace: the dataset's import prefix runs first in it (as verl prepends it);
    # what it bound is remembered so that a name only it provides is never taken for the program's.
    # Then the program's top level, compiled once, runs in it.
    global _rk_ns, _rk_pre
    _rk_ns = {'__name__': '__RK_MODULE_NAME__', '__builtins__': builtins, '__file__': os.path.abspath(sys.argv[0])}
    _rk_pre = {}
    if _RK_PREFIX:
        exec(compile(_RK_PREFIX, '<prefix>', 'exec'), _rk_ns)
    _rk_pre.update(_rk_ns)
    try:
        exec(_rk_code, _rk_ns)
    except SystemExit as e:
        if e.code not in (None, 0, False):
            raise _RkLoadExit('the program exited with %r while loading' % (e.code,))

def _rk_reset():
    # The next assertion block gets a fresh program: handles of the last one are dropped and the
    # program's top level runs again in a new namespace (its state does not carry over).
    _rk_handles.clear()
    _rk_ids.clear()
    _rk_load()
    sys.stdout.flush()

try:
    _rk_code = compile(_RK_SRC, os.path.abspath(sys.argv[0]), 'exec')
    _rk_bound = _rk_bound_names(_RK_SRC)
except (SyntaxError, ValueError) as e:
    sys.stderr.write(_rk_format_exc())
    _rk_send({'hello': {'compile_error': '%s: %s' % (type(e).__name__, e)}})
    os._exit(0)
try:
    _rk_load()
except _RkLoadExit as e:
    _rk_send({'hello': {'error': str(e)}})
    os._exit(0)
except BaseException as e:
    sys.stderr.write(_rk_format_exc())
    _rk_send({'hello': {'error': 'the program raised %s while loading: %s' % (type(e).__name__, str(e)[:500])}})
    os._exit(0)
sys.stdout.flush()
_rk_send({'hello': {'ok': 1}})
_rk_serve()
os._exit(0)
`.replace("__RK_COMMON__", () => PY_COMMON);

export const PY_HARNESS = String.raw`
__RK_COMMON__
import importlib, types
_RK_TOKEN = '__RK_TOKEN__'
_RK_BLOCKS = _rk_loads(_rk_b64d('__RK_BLOCKS_B64__').decode('utf-8'))
_RK_FIRST = int('__RK_FIRST__')
_RK_PRELUDE = _rk_b64d('__RK_PRELUDE_B64__').decode('utf-8')
_RK_ENTRY = _rk_b64d('__RK_ENTRY_B64__').decode('utf-8')
_RK_MODULE_ALIASES = {'np': 'numpy', 'pd': 'pandas', 'plt': 'matplotlib.pyplot'}
_RK_NO_IMPORT = {'this', 'antigravity', 'idlelib', 'turtledemo', 'test', 'tkinter', 'turtle', 'pydoc', 'webbrowser', 'ensurepip', 'venv', 'lib2to3', 'pdb', 'code', 'site'}
_rk_state = {'cannot': None, 'ended': None, 'protocol': None}
_rk_exc_types = {}
_rk_block_no = [_RK_FIRST, False]

class _RkAbort(BaseException):
    pass

class RemoteError(Exception):
    """An exception raised in the program process that has no built-in class here."""

def _rk_token_line(obj):
    os.write(_rk_out_fd, (_RK_TOKEN + ' ' + _rk_dumps(obj) + '\n').encode('utf-8', 'replace'))

def _rk_verdict(kind, msg=''):
    # One verdict per block, after the token (read only from this process's stdout).
    if _rk_block_no[1]:
        return
    _rk_block_no[1] = True
    _rk_token_line({'block': _rk_block_no[0], 'verdict': kind, 'message': str(msg)[:2000]})

def _rk_flag(kind, msg):
    if _rk_state[kind] is None:
        _rk_state[kind] = msg
    raise _RkAbort(kind)

def _rk_recv():
    line = _rk_in.readline()
    if not line:
        _rk_flag('ended', 'the program process ended before answering')
    try:
        return _rk_loads(line)
    except Exception:
        _rk_flag('protocol', 'the program process wrote something that is not a protocol message')

_rk_next_id = [0]
_rk_remotes = {}

_RK_B64 = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=')

def _rk_b64d_strict(s):
    # base64.b64decode(s, validate=True): only the base64 alphabet.
    if type(s) is not str or not _RK_B64.issuperset(s):
        raise ValueError('not base64')
    return binascii.a2b_base64(s)

def _rk_bad(what):
    _rk_flag('protocol', 'malformed reply from the program process: ' + what)

def _rk_is_int_text(s):
    t = s[1:] if s[:1] == '-' else s
    return t != '' and t.isascii() and t.isdigit()

def _rk_dec(v):
    if v is None or v is True or v is False:
        return v
    t = type(v)
    if t is str:
        return v
    if t is not dict or len(v) == 0:
        _rk_bad('value of type ' + t.__name__)
    if 'i' in v:
        s = v['i']
        if type(s) is not str or not _rk_is_int_text(s):
            _rk_bad('int')
        return int(s)
    if 'f' in v:
        s = v['f']
        if type(s) is not str:
            _rk_bad('float')
        try:
            return float(s)
        except ValueError:
            _rk_bad('float')
    if 'b' in v:
        try:
            return _rk_b64d_strict(v['b'])
        except Exception:
            _rk_bad('bytes')
    for tag, kind in (('l', list), ('t', tuple), ('s', set), ('fs', frozenset)):
        if tag in v:
            items = v[tag]
            if type(items) is not list:
                _rk_bad(tag)
            try:
                return kind(_rk_dec(x) for x in items)
            except TypeError:
                _rk_bad('unhashable set item')
    if 'd' in v:
        items = v['d']
        if type(items) is not list:
            _rk_bad('dict')
        out = {}
        for kv in items:
            if type(kv) is not list or len(kv) != 2:
                _rk_bad('dict item')
            try:
                out[_rk_dec(kv[0])] = _rk_dec(kv[1])
            except TypeError:
                _rk_bad('unhashable dict key')
        return out
    if 'h' in v:
        h = v['h']
        if type(h) is not int:
            _rk_bad('handle')
        r = _rk_remotes.get(h)
        if r is None:
            r = Remote(h, str(v.get('r', 'object'))[:100])
            _rk_remotes[h] = r
        return r
    if 'm' in v:
        # A module of the program becomes the harness's own copy; only standard-library modules that
        # do nothing when imported (never a __main__, a test runner or a GUI).
        name = v['m']
        if type(name) is not str:
            _rk_bad('module')
        parts = name.split('.')
        if (parts[0] not in sys.stdlib_module_names or parts[0] in _RK_NO_IMPORT
                or any(p.startswith('_') or not p.isidentifier() for p in parts)):
            _rk_flag('protocol', 'the program returned a module the harness does not import: ' + name[:100])
        try:
            return importlib.import_module(name)
        except BaseException:
            _rk_flag('protocol', 'the program named a module the harness cannot import: ' + name[:100])
    _rk_bad('unknown tag')

def _rk_enc(v, depth=0):
    if depth > 200:
        _rk_flag('cannot', 'a value passed to the program is nested too deeply')
    if v is None or v is True or v is False:
        return v
    t = type(v)
    if t is int:
        return {'i': repr(v)}
    if t is float:
        return {'f': repr(v)}
    if t is str:
        return v
    if t is bytes or t is bytearray:
        return {'b': _rk_b64e(v)}
    if t is list:
        return {'l': [_rk_enc(x, depth + 1) for x in v]}
    if t is tuple:
        return {'t': [_rk_enc(x, depth + 1) for x in v]}
    if t is set:
        return {'s': [_rk_enc(x, depth + 1) for x in v]}
    if t is frozenset:
        return {'fs': [_rk_enc(x, depth + 1) for x in v]}
    if t is dict:
        return {'d': [[_rk_enc(k, depth + 1), _rk_enc(x, depth + 1)] for k, x in v.items()]}
    if t is Remote:
        return {'h': object.__getattribute__(v, '_rk_id')}
    _rk_flag('cannot', 'the test passes a %s to the program, which the harness cannot transfer' % t.__name__)

_RK_CONTROL_FLOW = (AssertionError, StopIteration, StopAsyncIteration)

def _rk_raise(err, op):
    if type(err) is not dict:
        _rk_bad('error')
    name = str(err.get('type', 'Exception'))[:100]
    msg = str(err.get('msg', ''))
    cls = getattr(builtins, name, None)
    if op == 'next' and cls is StopIteration:
        raise StopIteration
    # Exceptions that steer control flow (an assertion, the end of an iteration) are not re-raised
    # as such: a program raising StopIteration inside map() must not shorten what the test sees.
    if (isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, _RK_CONTROL_FLOW)):
        try:
            e = cls(msg)
        except Exception:
            e = RemoteError(name + ': ' + msg)
    else:
        e = RemoteError(name + ': ' + msg)
    raise e

def _rk_rpc(op, **fields):
    _rk_next_id[0] += 1
    rid = _rk_next_id[0]
    msg = {'id': rid, 'op': op}
    msg.update(fields)
    _rk_send(msg)
    rep = _rk_recv()
    if type(rep) is not dict or rep.get('id') != rid:
        _rk_bad('reply out of order')
    if 'err' in rep:
        _rk_raise(rep['err'], op)
    if 'ok' not in rep:
        _rk_bad('reply without a value')
    return rep

def _rk_value(op, **fields):
    return _rk_dec(_rk_rpc(op, **fields)['ok'])

def _rk_call(f, args, kwargs):
    enc_args = [_rk_enc(a) for a in args]
    enc_kw = [[k, _rk_enc(x)] for k, x in kwargs.items()]
    rep = _rk_rpc('call', o=_rk_enc(f), a=enc_args, k=enc_kw)
    result = _rk_dec(rep['ok'])
    mut = rep.get('mut')
    if type(mut) is list:
        for i, m in enumerate(mut[:len(args)]):
            if m is None:
                continue
            orig = args[i]
            new = _rk_dec(m)
            if type(orig) is list and type(new) is list:
                orig[:] = new
            elif type(orig) is dict and type(new) is dict:
                orig.clear()
                orig.update(new)
            elif type(orig) is set and type(new) is set:
                orig.clear()
                orig.update(new)
            elif type(orig) is bytearray and type(new) is bytes:
                orig[:] = new
    return result

class Remote:
    """A handle on an object of the program process; equal only to itself."""
    __slots__ = ('_rk_id', '_rk_type')
    def __init__(self, h, t):
        object.__setattr__(self, '_rk_id', h)
        object.__setattr__(self, '_rk_type', t)
    def __getattr__(self, name):
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        return _rk_value('getattr', o=_rk_enc(self), name=name)
    def __setattr__(self, name, value):
        _rk_value('setattr', o=_rk_enc(self), name=name, v=_rk_enc(value))
    def __call__(self, *args, **kwargs):
        return _rk_call(self, args, kwargs)
    def __getitem__(self, k):
        return _rk_value('getitem', o=_rk_enc(self), k=_rk_enc(k))
    def __setitem__(self, k, v):
        _rk_value('setitem', o=_rk_enc(self), k=_rk_enc(k), v=_rk_enc(v))
    def __delitem__(self, k):
        _rk_value('delitem', o=_rk_enc(self), k=_rk_enc(k))
    def __iter__(self):
        it = _rk_value('iter', o=_rk_enc(self))
        if type(it) is not Remote:
            _rk_bad('iterator')
        return _RemoteIterator(it)
    def __len__(self):
        n = _rk_value('len', o=_rk_enc(self))
        if type(n) is not int:
            _rk_bad('len')
        return n
    def __contains__(self, x):
        b = _rk_value('contains', o=_rk_enc(self), x=_rk_enc(x))
        if type(b) is not bool:
            _rk_bad('contains')
        return b
    def __bool__(self):
        b = _rk_value('bool', o=_rk_enc(self))
        if type(b) is not bool:
            _rk_bad('bool')
        return b
    def __str__(self):
        s = _rk_value('str', o=_rk_enc(self))
        if type(s) is not str:
            _rk_bad('str')
        return s
    def __repr__(self):
        return '<program %s #%d>' % (object.__getattribute__(self, '_rk_type'), object.__getattribute__(self, '_rk_id'))
    def __eq__(self, other):
        return type(other) is Remote and object.__getattribute__(other, '_rk_id') == object.__getattribute__(self, '_rk_id')
    def __ne__(self, other):
        return not self.__eq__(other)
    def __hash__(self):
        return hash(('rk-remote', object.__getattribute__(self, '_rk_id')))

class _RemoteIterator:
    __slots__ = ('_it',)
    def __init__(self, it):
        self._it = it
    def __iter__(self):
        return self
    def __next__(self):
        return _rk_value('next', o=_rk_enc(self._it))

def _rk_block(src, fresh):
    # One assertion block, in a fresh namespace of its own; 'fresh' is False when the program
    # process served an earlier block: it then reloads the program first (a fresh program state).
    try:
        tree = _rk_parse(src)
        code = compile(tree, '<test>', 'exec')
    except (SyntaxError, ValueError) as e:
        _rk_verdict('bad_test', 'the test block does not compile: %s' % e)
        return
    loads = []
    bases = set()
    for node in _rk_walk(tree):
        if isinstance(node, _ast.Name) and isinstance(node.ctx, _ast.Load) and node.id not in loads:
            loads.append(node.id)
        if isinstance(node, _ast.Attribute) and isinstance(node.value, _ast.Name):
            bases.add(node.value.id)
    # The block runs as the real __main__ module, so unittest.main() finds the block's TestCases.
    main_mod = types.ModuleType('__main__')
    ns = main_mod.__dict__
    ns['__builtins__'] = builtins
    sys.modules['__main__'] = main_mod
    # The dataset's prompt (HumanEval: helpers such as poly() next to the stub of the entry point)
    # runs here first: the block's helpers are the reference's own, never the program's versions.
    trusted = set()
    if _RK_PRELUDE:
        try:
            exec(compile(_RK_PRELUDE, '<prompt>', 'exec'), ns)
            trusted = {n for n in ns if not (n.startswith('__') and n.endswith('__')) and n != _RK_ENTRY}
        except BaseException:
            for k in list(ns):
                if k not in ('__name__', '__builtins__', '__doc__', '__spec__', '__loader__', '__package__'):
                    del ns[k]
            trusted = set()
        ns.pop(_RK_ENTRY, None)
    ask = []
    unowned = None
    own_modules = {}
    for n in loads:
        # Builtins are always the harness's. A standard-library module name (or np/pd) used as
        # "name.attr" is the harness's own module, never the program's object of that name; used
        # only as a plain name (a function the program calls 'calendar') it is asked for.
        if hasattr(builtins, n) or n in trusted:
            continue
        mod = _RK_MODULE_ALIASES.get(n, n if n in sys.stdlib_module_names else None)
        if mod is not None:
            own_modules[n] = mod
            if n in bases:
                continue
        ask.append(n)
    def bind_module(n):
        try:
            ns[n] = importlib.import_module(own_modules[n])
        except Exception:
            pass
    for n in own_modules:
        if n in bases:
            bind_module(n)
    try:
        reply = None
        if not fresh:
            # The program's top level runs again in a fresh namespace (and the block's names are
            # looked up in it, in the same round trip).
            try:
                reply = _rk_rpc('reset', names=ask) if ask else _rk_rpc('reset')
            except _RkAbort:
                raise
            except BaseException as e:
                _rk_verdict('load_error', 'the program failed while loading again for this block: %s: %s' % (type(e).__name__, str(e)[:500]))
                return
        if ask:
            if reply is None:
                reply = _rk_rpc('lookup', names=ask)
            found = reply['ok']
            own = reply.get('own')
            if type(found) is not dict or type(own) is not list:
                _rk_bad('lookup')
            for n, v in found.items():
                if n in ask:
                    ns[n] = _rk_dec(v)
            # The code under test must be the program's: the entry point when the dataset names one,
            # else at least one of the names the block takes from the program. A name only the
            # dataset's import prefix bound (gcd after 'from math import *') is no answer.
            if _RK_ENTRY and _RK_ENTRY in ask and _RK_ENTRY not in own:
                unowned = "NameError: the program does not define '%s'" % _RK_ENTRY
            elif not any(n in own for n in ask):
                unowned = 'NameError: the program defines none of the names the test uses (%s)' % ', '.join(ask[:8])
            for n in own_modules:
                if n not in ns or type(ns[n]) is not Remote or not object.__getattribute__(ns[n], '_rk_type') in ('function', 'builtin_function_or_method', 'type'):
                    bind_module(n)
    except _RkAbort:
        pass
    outcome = ('pass', '') if unowned is None else ('error', unowned)
    if not any(_rk_state.values()) and unowned is None:
        try:
            exec(code, ns)
        except AssertionError as e:
            outcome = ('fail', 'AssertionError: %s' % (e,))
        except _RkAbort:
            pass
        except SystemExit as e:
            # unittest.main() and the like end a test block by exiting: 0 passes, anything else fails.
            outcome = ('pass', '') if e.code in (None, 0, False) else ('fail', 'the test exited with %r' % (e.code,))
        except BaseException as e:
            outcome = ('error', '%s: %s' % (type(e).__name__, e))
    if _rk_state['cannot'] is not None:
        _rk_verdict('cannot', _rk_state['cannot'])
    elif _rk_state['ended'] is not None:
        _rk_verdict('ended', _rk_state['ended'])
    elif _rk_state['protocol'] is not None:
        _rk_verdict('protocol', _rk_state['protocol'])
    else:
        _rk_verdict(*outcome)

def _rk_main():
    # The blocks run one after another against the same program process. A verdict line per block
    # (after the token); before each block a start line, from which the caller times the block.
    try:
        hello = _rk_recv()
        if type(hello) is not dict or type(hello.get('hello')) is not dict:
            _rk_bad('hello')
    except _RkAbort:
        _rk_verdict('ended' if _rk_state['ended'] is not None else 'protocol', _rk_state['ended'] or _rk_state['protocol'])
        return
    h = hello['hello']
    if 'compile_error' in h or 'error' in h:
        # A program that does not compile or load fails every block the same way.
        for k in range(len(_RK_BLOCKS)):
            _rk_block_no[:] = [_RK_FIRST + k, False]
            if 'compile_error' in h:
                _rk_verdict('compile_error', h['compile_error'])
            else:
                _rk_verdict('load_error', h['error'])
        return
    for k, src in enumerate(_RK_BLOCKS):
        _rk_block_no[:] = [_RK_FIRST + k, False]
        for key in _rk_state:
            _rk_state[key] = None
        _rk_remotes.clear()
        _rk_token_line({'block': _RK_FIRST + k, 'start': 1})
        try:
            _rk_block(src, k == 0)
        except BaseException as e:
            _rk_verdict('error', 'harness: %s: %s' % (type(e).__name__, e))
        sys.stdout.flush()
        sys.stderr.flush()
        if _rk_state['ended'] is not None or _rk_state['protocol'] is not None:
            # The program process is gone or its replies cannot be trusted: the caller restarts
            # the pair for the remaining blocks.
            return

try:
    _rk_main()
except BaseException as e:
    _rk_verdict('error', 'harness: %s: %s' % (type(e).__name__, e))
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
`.replace("__RK_COMMON__", () => PY_COMMON);

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The program process's source for `program`; `prefix` is prepended to the program (e.g. verl's
 * imports). `moduleName` is the program's `__name__`: `__main__` for assertion tests (as if the block
 * were appended), a plain module name for call-based tests (as verl's `prime_code` loads the
 * program, so an `if __name__ == "__main__":` section does not run).
 */
export function pythonRunner(program: string, prefix = '', moduleName = '__main__'): string {
  if (!/^[A-Za-z_][\w.]*$/.test(moduleName)) throw new Error(`bad module name ${moduleName}`);
  return PY_RUNNER.replace('__RK_PROGRAM_B64__', () => b64(program))
    .replace('__RK_PREFIX_B64__', () => b64(prefix))
    .replace('__RK_MODULE_NAME__', () => moduleName);
}

/**
 * The harness process's source for assertion blocks run one after another against one program
 * process; `token` starts each verdict and start line, `first` is the index of `blocks[0]` in the
 * rollout's list (the lines carry `first + k`). `prelude` (a HumanEval prompt) runs in the harness
 * before each block; the names it defines other than `entryPoint` stay the harness's own.
 */
export function pythonHarness(blocks: string | string[], token: string, prelude = '', entryPoint = '', first = 0): string {
  const list = typeof blocks === 'string' ? [blocks] : blocks;
  if (!Number.isSafeInteger(first) || first < 0) throw new Error(`bad block index ${first}`);
  return PY_HARNESS.replace('__RK_TOKEN__', () => token)
    .replace('__RK_BLOCKS_B64__', () => b64(JSON.stringify(list)))
    .replace('__RK_FIRST__', () => String(first))
    .replace('__RK_PRELUDE_B64__', () => b64(prelude))
    .replace('__RK_ENTRY_B64__', () => b64(entryPoint));
}

const VERL_STAR_MODULES = [
  'string', 're', 'datetime', 'collections', 'heapq', 'bisect', 'copy', 'math', 'random', 'statistics', 'itertools', 'functools', 'operator', 'io', 'sys', 'json', 'builtins', 'typing',
] as const;

/** verl `prime_code`'s import prefix for call-based (`fn_name`) programs. */
export const VERL_PY_PREFIX =
  VERL_STAR_MODULES.map((m) => `from ${m} import *`)
    .join('\n') +
  '\nimport string, re, datetime, collections, heapq, bisect, copy, math, random, statistics, itertools, functools, operator, io, sys, json\nsys.setrecursionlimit(6*10**5)\n';

/**
 * The standard-library modules a call-based Python program's process imports before the program:
 * verl's prefix ({@link VERL_PY_PREFIX}) and the runner's own. The warm pool imports them in the
 * slots that serve these runs, before forking (`SessionRequest.preload`), so that each program's
 * process finds them loaded instead of importing them (~23 ms of a fresh interpreter's time).
 */
export const VERL_PY_PRELOAD: readonly string[] = [...VERL_STAR_MODULES, 'importlib', 'types'];

