/**
 * Python source of the *case runner* (see `io.ts`): one sandboxed process that runs every
 * stdin/stdout case of one program, each case a fresh `python3 prog.py` in fresh namespaces.
 *
 * Processes, all the sandbox's uid, none holding another's descriptors:
 * - the **runner** (this script's first process): non-dumpable, talks to the host on fd 0/1 (a case's
 *   input in, one JSON frame per case out), times each case, counts its output, relays bytes;
 * - the **template**: forked first thing, before the runner reads anything — its memory never holds an
 *   input, an output or anything of a case. It keeps only /dev/null on fd 0–2 and one socket to the
 *   runner, over which it receives `R` (the four pipe ends of a case, SCM_RIGHTS) and `K` (kill);
 * - per case, cloned from the template: **B**, pid 1 of fresh user (its own uid mapped to itself), pid,
 *   mount, IPC and UTS namespaces. B mounts a fresh size-limited tmpfs on `/tmp` and `/dev/shm` and a
 *   fresh `/proc`, writes `/tmp/prog.py`, and forks **C** — the program: the case's rlimits, every
 *   capability dropped (bounding, ambient, permitted), the kernel keyring calls refused (seccomp,
 *   ENOSYS: keys are the one kernel object named across namespaces by uid), fds 0/1/2 = the case's
 *   pipes and nothing else; C waits for the runner's "go" (the next case is prepared while the current
 *   one runs). B waits for C, SIGKILLs whatever is left in the namespace, and reports CPU time and exit
 *   status on the report pipe (the cold sandbox's format), which C never holds. Killing B (the
 *   runner's wall-clock or output limit) ends the pid namespace and every process of the case.
 * The runner frames what the host needs: the report, stdout, stderr, and whether it killed the case
 * at the wall-clock or output limit. A case cannot reach the runner or the template: they are outside
 * its pid namespace (no pid to signal or trace), non-dumpable (no `/proc/PID/mem`, `fd`, ptrace), and
 * it holds none of their descriptors. Nothing of a case survives into the next one: its processes die
 * with its pid namespace, its files with its tmpfs, its IPC objects with its IPC namespace, its keys
 * with its user namespace (and it can create no key).
 *
 * Placeholders: `__RK_PROGRAM_B64__`, `__RK_LIMITS__` (cpu-soft cpu-hard as-bytes nproc fsize nofile tmp-MiB).
 */
export const PY_IO_RUNNER = String.raw`import sys, os
import ctypes, _socket, select, resource, binascii
_RK_PROG = binascii.a2b_base64(b'__RK_PROGRAM_B64__')
_RK_LIM = tuple(int(x) for x in '__RK_LIMITS__'.split())
_RK_LIBC = ctypes.CDLL(None, use_errno=True)
_RK_LIBC.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
_RK_LIBC.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_RK_LIBC.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
_rk_a, _rk_b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)


def _rk_ok(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, '%s: %s' % (what, os.strerror(e)))


def _rk_write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _rk_times(t):
    m = int(t // 60)
    return '%dm%.6fs' % (m, t - 60 * m)


def _rk_case_b(fds, uid, gid):
    """Pid 1 of the case's fresh namespaces (cloned from the template). Returns only in the program's process (C)."""
    # fds 0-2: the case's stdin, stdout, stderr; 3: the report; 4: "go" (all others closed). The
    # received descriptors are >= 4 and ascending (the template holds /dev/null on 0-2 and its socket
    # on 3), so each is copied before its number is reused.
    for i, fd in enumerate(fds):
        if fd != i:
            if fd < i:
                os._exit(0)
            os.dup2(fd, i)
    os.closerange(5, 1 << 16)
    rep = 3
    step = 'namespaces'
    try:
        _rk_ok(_RK_LIBC.prctl(4, 1, 0, 0, 0), 'dumpable')  # its own /proc files writable for the maps
        for name, text in (('setgroups', 'deny'), ('uid_map', '%d %d 1' % (uid, uid)), ('gid_map', '%d %d 1' % (gid, gid))):
            fd = os.open('/proc/self/' + name, os.O_WRONLY)
            try:
                os.write(fd, text.encode())
            finally:
                os.close(fd)
        _rk_ok(_RK_LIBC.prctl(4, 0, 0, 0, 0), 'dumpable')
        step = 'mount'
        MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18
        _rk_ok(_RK_LIBC.mount(None, b'/', None, MS_REC | MS_PRIVATE, None), 'mount /')
        tmp = ('size=%dm,nr_inodes=4096,mode=1777' % _RK_LIM[6]).encode()
        _rk_ok(_RK_LIBC.mount(b'rk', b'/tmp', b'tmpfs', MS_NOSUID | MS_NODEV, tmp), 'mount /tmp')
        _rk_ok(_RK_LIBC.mount(b'rk', b'/dev/shm', b'tmpfs', MS_NOSUID | MS_NODEV, ('size=%dm,nr_inodes=256,mode=1777' % _RK_LIM[6]).encode()), 'mount /dev/shm')
        _rk_ok(_RK_LIBC.mount(b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, b'hidepid=2'), 'mount /proc')
        step = 'write'
        os.chdir('/tmp')
        fd = os.open('/tmp/prog.py', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        _rk_write(fd, _RK_PROG)
        os.close(fd)
        step = 'fork'
        pid = os.fork()
    except BaseException as e:
        try:
            _rk_write(rep, ('setup %s (%s)\n' % (step, str(e)[:200].replace('\n', ' '))).encode())
        finally:
            os._exit(0)
    if pid == 0:
        try:
            _rk_drop()
        except BaseException as e:
            try:
                _rk_write(rep, ('setup drop (%s)\n' % str(e)[:200].replace('\n', ' ')).encode())
            finally:
                os._exit(125)
        os.close(rep)
        # Prepared ahead of its turn: the program starts when the runner says go (its timer starts then).
        try:
            go = os.read(4, 1)
        except OSError:
            go = b''
        if go != b'g':
            os._exit(0)
        os.close(4)
        return True
    os.close(4)
    try:
        null = os.open('/dev/null', os.O_RDWR)
        for i in range(3):
            os.dup2(null, i)
        os.close(null)
        status = None
        while True:
            try:
                p, st = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if p == pid:
                status = st
                break
        try:
            os.kill(-1, 9)
        except OSError:
            pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        if status is None:
            rc = 255
        elif os.WIFSIGNALED(status):
            rc = 128 + os.WTERMSIG(status)
        else:
            rc = os.WEXITSTATUS(status)
        t = os.times()
        _rk_write(rep, ('%s %s\n%s %s\nexit %d\n' % (_rk_times(t.user), _rk_times(t.system), _rk_times(t.children_user), _rk_times(t.children_system), rc)).encode())
    finally:
        os._exit(0)


_RK_KEYCTL = {'x86_64': 250, 'aarch64': 219}.get(os.uname().machine)
_RK_CAPSET = {'x86_64': 126, 'aarch64': 91}.get(os.uname().machine)


def _rk_drop():
    """In the program's process: the case's limits, no capability at all, dumpable as a fresh process."""
    cpu_soft, cpu_hard, as_bytes, nproc, fsize, nofile = _RK_LIM[:6]
    R = resource
    R.setrlimit(R.RLIMIT_CORE, (0, 0))
    R.setrlimit(R.RLIMIT_NOFILE, (nofile, nofile))
    R.setrlimit(R.RLIMIT_CPU, (cpu_soft, cpu_hard))
    R.setrlimit(R.RLIMIT_AS, (as_bytes, as_bytes))
    R.setrlimit(R.RLIMIT_NPROC, (nproc, nproc))
    R.setrlimit(R.RLIMIT_FSIZE, (fsize, fsize))
    try:
        last = int(open('/proc/sys/kernel/cap_last_cap').read())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):
        _rk_ok(_RK_LIBC.prctl(24, cap, 0, 0, 0), 'capbset')  # PR_CAPBSET_DROP
    _rk_ok(_RK_LIBC.prctl(47, 4, 0, 0, 0), 'ambient')  # PR_CAP_AMBIENT_CLEAR_ALL
    hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _rk_ok(_RK_LIBC.syscall(_RK_CAPSET, hdr, data), 'capset')
    _rk_no_keys()
    _rk_ok(_RK_LIBC.prctl(4, 1, 0, 0, 0), 'dumpable')


class _RkFilter(ctypes.Structure):
    _fields_ = [('code', ctypes.c_uint16), ('jt', ctypes.c_uint8), ('jf', ctypes.c_uint8), ('k', ctypes.c_uint32)]


class _RkProg(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.POINTER(_RkFilter))]


def _rk_no_keys():
    """A seccomp filter: the kernel keyring calls (add_key, request_key, keyctl) fail with ENOSYS, as on
    a kernel built without keys. Every case runs as the same uid: keys are the one kernel object a case
    could name across its namespaces (/proc/keys, serial numbers) while the previous case's linger."""
    arch = {'x86_64': (0xC000003E, (248, 249, 250)), 'aarch64': (0xC00000B7, (217, 218, 219))}.get(os.uname().machine)
    if arch is None:
        raise OSError('no seccomp filter for this machine')
    audit, nrs = arch
    LD, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
    ALLOW, DENY = 0x7fff0000, 0x00050000 | 38
    code = [
        (LD, 0, 0, 4), (JEQ, 1, 0, audit), (RET, 0, 0, DENY),
        (LD, 0, 0, 0), (JGE, 4, 0, 0x40000000),
        (JEQ, 3, 0, nrs[0]), (JEQ, 2, 0, nrs[1]), (JEQ, 1, 0, nrs[2]),
        (RET, 0, 0, ALLOW), (RET, 0, 0, DENY),
    ]
    filt = (_RkFilter * len(code))(*[_RkFilter(*c) for c in code])
    prog = _RkProg(len(code), filt)
    _rk_ok(_RK_LIBC.prctl(22, 2, ctypes.addressof(prog), 0, 0), 'seccomp')


def _rk_template(sock):
    """The case template: clones a case's pid 1 (fresh user, pid, mount, IPC, UTS namespaces) on 'R',
    kills it on 'K' and answers once it is gone. Returns only in a program's process."""
    uid, gid = os.getuid(), os.getgid()
    flags = 0x10000000 | 0x20000000 | 0x00020000 | 0x08000000 | 0x04000000 | 17  # USER PID NS IPC UTS, SIGCHLD
    clone = {'x86_64': 56, 'aarch64': 220}.get(os.uname().machine)
    kids = set()
    import gc
    gc.freeze()
    while True:
        try:
            msg, anc, _, _ = sock.recvmsg(64, _socket.CMSG_LEN(5 * 4))
        except InterruptedError:
            continue
        if not msg:
            os._exit(0)
        fds = []
        for level, typ, data in anc:
            if level == _socket.SOL_SOCKET and typ == _socket.SCM_RIGHTS:
                fds.extend(int.from_bytes(data[k:k + 4], sys.byteorder, signed=True) for k in range(0, len(data) - 3, 4))
        while kids:
            try:
                p, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                kids.clear()
                break
            if p == 0:
                break
            kids.discard(p)
        if msg[:1] == b'K':
            p = int(msg[2:])
            if p in kids:
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
                try:
                    os.waitpid(p, 0)
                except ChildProcessError:
                    pass
                kids.discard(p)
            sock.send(b'D')
            continue
        if msg[:1] != b'R' or len(fds) != 5 or clone is None:
            for fd in fds:
                os.close(fd)
            sock.send(b'F bad request')
            continue
        # A raw clone (no os.fork hooks: this process has no threads and holds no lock here); the
        # child is pid 1 of its namespaces and forks the program with glibc's fork.
        pid = _RK_LIBC.syscall(clone, flags, 0, 0, 0, 0)
        if pid == 0:
            sock.close()
            return _rk_case_b(fds, uid, gid)
        err = ctypes.get_errno()
        for fd in fds:
            os.close(fd)
        if pid < 0:
            sock.send(('F clone: %s' % os.strerror(err)).encode()[:200])
            continue
        kids.add(pid)
        sock.send(b'S %d' % pid)


def _rk_runner(sock):
    import time
    tsock = sock
    tsock.settimeout(60)
    inbuf = b''
    def need(n):
        nonlocal inbuf
        while len(inbuf) < n:
            chunk = os.read(0, max(65536, n - len(inbuf)))
            if not chunk:
                os._exit(0)
            inbuf += chunk
        out = inbuf[:n]
        inbuf = inbuf[n:]
        return out
    def line():
        nonlocal inbuf
        while b'\n' not in inbuf:
            chunk = os.read(0, 65536)
            if not chunk:
                os._exit(0)
            inbuf += chunk
        i = inbuf.index(b'\n')
        out = inbuf[:i]
        inbuf = inbuf[i + 1:]
        return out.decode()
    def prepare():
        """Has the template fork the next case, which sets itself up and waits for go."""
        ends = [os.pipe() for _ in range(5)]
        # in, out, err, rep, go: the case holds the read ends of stdin and go, the write ends of the rest.
        child = [ends[0][0], ends[1][1], ends[2][1], ends[3][1], ends[4][0]]
        mine = {'in': ends[0][1], 'out': ends[1][0], 'err': ends[2][0], 'rep': ends[3][0], 'go': ends[4][1]}
        tsock.sendmsg([b'R'], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, b''.join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in child))])
        for fd in child:
            os.close(fd)
        ans = tsock.recv(256)
        if not ans.startswith(b'S '):
            for fd in mine.values():
                os.close(fd)
            return {'error': ans[2:].decode('utf-8', 'replace')}
        mine['pid'] = int(ans[2:])
        return mine
    def b64(data):
        return binascii.b2a_base64(data, newline=False)
    def frame(rep, out, err, killed, ms):
        # One JSON line; every text in base64 (no json module: each import costs this process CPU).
        _rk_write(1, b'{"rep":"%s","out":"%s","err":"%s","killed":%s,"ms":%.3f}\n' % (b64(rep), b64(out), b64(err), b'null' if killed is None else b'"' + killed + b'"', ms))
    _rk_write(1, b'{"ready": 1}\n')
    head = line().split()
    if len(head) != 2 or head[0] != 'N':
        os._exit(0)
    count = int(head[1])
    nxt = prepare() if count > 0 else None
    for k in range(count):
        head = line().split()
        if not head or head[0] != 'C':
            os._exit(0)
        n, timeout_ms, max_out = int(head[1]), int(head[2]), int(head[3])
        data = need(n)
        cur = nxt
        nxt = None
        if 'error' in cur:
            frame(('setup fork (%s)\n' % cur['error']).encode(), b'', b'', None, 0)
            if k + 1 < count:
                nxt = prepare()
            continue
        pid = cur['pid']
        in_w, out_r, err_r, rep_r = cur['in'], cur['out'], cur['err'], cur['rep']
        try:
            os.write(cur['go'], b'g')
        except OSError:
            pass
        os.close(cur['go'])
        start = time.monotonic()
        if k + 1 < count:
            nxt = prepare()
        os.set_blocking(in_w, False)
        bufs = {out_r: [], err_r: [], rep_r: []}
        total = 0
        killed = None
        deadline = start + timeout_ms / 1000.0
        hard = None
        view = memoryview(data)
        poll = select.poll()
        for fd in bufs:
            poll.register(fd, select.POLLIN)
        if view:
            poll.register(in_w, select.POLLOUT)
        else:
            os.close(in_w)
            in_w = -1
        open_fds = set(bufs)
        while open_fds:
            now = time.monotonic()
            if killed is None and now >= deadline:
                killed = b'timeout'
                tsock.send(b'K %d' % pid)
                hard = now + 5
            if hard is not None and now >= hard:
                break
            wait = (deadline if killed is None else hard) - now
            for fd, ev in poll.poll(max(0, int(wait * 1000)) + 1):
                if fd == in_w:
                    try:
                        w = os.write(in_w, view[:65536])
                        view = view[w:]
                    except BlockingIOError:
                        continue
                    except OSError:
                        view = view[:0]
                    if not view:
                        poll.unregister(in_w)
                        os.close(in_w)
                        in_w = -1
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    poll.unregister(fd)
                    open_fds.discard(fd)
                    if fd == rep_r and in_w >= 0:
                        poll.unregister(in_w)
                        os.close(in_w)
                        in_w = -1
                    continue
                if fd == rep_r:
                    if sum(map(len, bufs[rep_r])) < 4096:
                        bufs[rep_r].append(chunk)
                    continue
                if killed == b'output_limit':
                    continue
                room = max_out - total
                total += len(chunk)
                bufs[fd].append(chunk[:max(0, room)] if len(chunk) > room else chunk)
                if total > max_out and killed is None:
                    killed = b'output_limit'
                    tsock.send(b'K %d' % pid)
                    hard = time.monotonic() + 5
        ms = (time.monotonic() - start) * 1000
        if killed is not None:
            # A killed case: the template answers once its last process is gone, before the next starts.
            ans = tsock.recv(256)
            while ans != b'D':
                ans = tsock.recv(256)
        for fd in [out_r, err_r, rep_r] + ([in_w] if in_w >= 0 else []):
            os.close(fd)
        frame(b''.join(bufs[rep_r]), b''.join(bufs[out_r]), b''.join(bufs[err_r]), killed, ms)
    os._exit(0)


_rk_pid = os.fork()
if _rk_pid != 0:
    _rk_b.close()
    try:
        _rk_runner(_rk_a)
    finally:
        os._exit(0)
_rk_a.close()
_rk_null = os.open('/dev/null', os.O_RDWR)
for _rk_i in range(3):
    os.dup2(_rk_null, _rk_i)
os.close(_rk_null)
_rk_fd = _rk_b.fileno()
os.closerange(3, _rk_fd)
os.closerange(_rk_fd + 1, 1 << 16)
_rk_template(_rk_b)
# Only a case's program process (C) gets here: it becomes "python3 prog.py" run in its fresh /tmp.
del _rk_a, _rk_b, _rk_fd, _rk_null, _rk_i, _rk_pid
sys.path_importer_cache.pop('/tmp', None)
sys.argv[:] = ['prog.py']
sys.path[0] = '/tmp'
import builtins, gc, atexit, _signal
_rk_main = type(sys)('__main__')
_rk_main.__dict__.update({'__loader__': sys.modules['_frozen_importlib_external'].SourceFileLoader('__main__', '/tmp/prog.py'), '__annotations__': {}, '__builtins__': builtins, '__file__': '/tmp/prog.py', '__cached__': None})
sys.modules['__main__'] = _rk_main
if 'random' in sys.modules:
    sys.modules['random'].seed()


def _rk_finish(rc, sigint=False):
    try:
        t = sys.modules.get('threading')
        if t is not None:
            t._shutdown()
    except BaseException:
        pass
    atexit._run_exitfuncs()
    try:
        _rk_main.__dict__.clear()
        gc.collect()
    except BaseException:
        pass
    for name in ('stdout', 'stderr'):
        f = getattr(sys, name, None)
        try:
            if f is None or getattr(f, 'closed', False):
                continue
            f.flush()
        except BaseException as e:
            rc = 120
            if name == 'stdout':
                try:
                    sys.stderr.write('Exception ignored in: %r\n%s: %s\n' % (f, type(e).__name__, e))
                    sys.stderr.flush()
                except BaseException:
                    pass
    if sigint:
        _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGINT)
    os._exit(rc)


def _rk_exit_code(e):
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return int(code) if -(1 << 63) <= code < (1 << 63) else 255
    try:
        if sys.stderr is not None:
            sys.stderr.write(str(code) + '\n')
    except BaseException:
        pass
    return 1


try:
    with open('/tmp/prog.py', 'rb') as _rk_f:
        _rk_code = compile(_rk_f.read(), '/tmp/prog.py', 'exec', dont_inherit=True)
except (SyntaxError, ValueError) as _rk_e:
    sys.excepthook(type(_rk_e), _rk_e.with_traceback(None), None)
    _rk_e = None
    _rk_finish(1)
try:
    exec(_rk_code, _rk_main.__dict__)
except SystemExit as _rk_e:
    _rk_code = _rk_exit_code(_rk_e)
    _rk_e = None
    _rk_finish(_rk_code)
except BaseException as _rk_e:
    _rk_e.with_traceback(_rk_e.__traceback__.tb_next)
    try:
        sys.excepthook(type(_rk_e), _rk_e, _rk_e.__traceback__)
    except BaseException:
        pass
    _rk_code = isinstance(_rk_e, KeyboardInterrupt)
    _rk_e = None
    _rk_finish(1, _rk_code)
_rk_finish(0)
`;

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The case runner's source for `program` with the per-case limits. */
export function pythonIoRunner(program: string, lim: { cpuSoft: number; cpuHard: number; addressSpaceBytes: number; nproc: number; fileBytes: number; openFiles: number; tmpMb: number }): string {
  const nums = [lim.cpuSoft, lim.cpuHard, lim.addressSpaceBytes, lim.nproc, lim.fileBytes, lim.openFiles, lim.tmpMb];
  if (!nums.every((n) => Number.isSafeInteger(n) && n > 0)) throw new Error(`bad case limits ${nums.join(' ')}`);
  return PY_IO_RUNNER.replace('__RK_PROGRAM_B64__', () => b64(program)).replace('__RK_LIMITS__', () => nums.join(' '));
}
