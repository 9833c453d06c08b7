/**
 * The Python zygote of the warm sandbox pool (see `warm.ts`): a small fork server that runs as root
 * inside one long-lived sealed sandbox (the same sealed root, namespaces and skeleton as a cold run),
 * having imported only what it needs (ctypes, select, _socket, resource, binascii; never `random`,
 * `threading` or anything holding per-process state, which each program imports fresh). It reads one line per command from its stdin (the host's
 * control pipe; nothing else ever holds it):
 * - `R <id> <uid> <tmpMb> <cpuSoft> <cpuHard> <addressSpaceBytes> <nproc> <fileBytes> <openFiles>`:
 *   unshare a new pid namespace and fork the run's *init* (pid 1 there; `setns` back afterwards);
 * - `K <id>`: SIGKILL that run's init (its pid namespace, and so every process of the run, dies with it).
 * It writes `S <id> <pid>` (started), `F <id> <why>` (could not fork) and `X <id> <wait status>` (the
 * init was reaped). No program's source, input or output ever passes through the zygote: the run's
 * init connects by itself to the host's unix socket (bind-mounted at `/tmp/.rk`, root-only) for its
 * payload and report (`c`) and the program's stdin, stdout and stderr (`i`, `o`, `e`), so the zygote's
 * memory (which every later run inherits) holds only command lines (ids, uids, limits).
 *
 * The run's init (root, in the run's own pid namespace): connects its four sockets, joins a network
 * namespace no other live run uses (empty, loopback down; the zygote keeps a few and hands each to one
 * run at a time — nothing of a run outlives its processes there), enters new mount and IPC namespaces, detaches `/tmp/.rk`, mounts a fresh size-limited tmpfs on `/tmp` and
 * `/dev/shm` and a fresh `/proc` (hidepid=2) of its pid namespace, reads the payload (source, files,
 * fetch list) and writes it into `/tmp` (owned by the run's uid), then forks the program's process.
 * That process sets the rlimits (CPU soft/hard, address space, processes, file size, open files, no
 * core), empties the capability bounding and ambient sets, drops supplementary groups, becomes the
 * run's uid/gid, sets no_new_privs, closes the report socket, and returns to the module's top level,
 * where it turns into `python3 prog.py` run in `/tmp`: a fresh `__main__`, `sys.argv`/`sys.path[0]`
 * as Python sets them, its own session keyring, the source
 * compiled and executed; a SyntaxError or an uncaught exception is printed exactly as the interpreter
 * prints it (no zygote frame). Interpreter shutdown is emulated in what a program can observe
 * (non-daemon threads joined, atexit, the program's objects finalised and cycles collected, stdio
 * flushed, exit 120 when stdout cannot be flushed) before `_exit`: a full finalisation would write to
 * every page inherited from the zygote and cost more than a fresh interpreter. The init waits for the
 * program, SIGKILLs whatever else is left in its namespace, reports the CPU time and the status in
 * the format of the cold sandbox's init shell (`times` lines, `exit <rc>`, rc = 128 + signal), reads
 * back the requested files as the run's uid (`file <i> <base64> <rc>` lines), and exits.
 */

/** Source of the zygote (run as `python3 /tmp/.rk/zygote.py` inside the sandbox). */
export const ZYGOTE_PY = String.raw`import sys, os
import _signal, select, ctypes, _socket, binascii, resource

_RK_LIBC = ctypes.CDLL(None, use_errno=True)
_RK_CTL = '/tmp/.rk/sock'
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18
MNT_DETACH = 2
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 4, 24, 38, 47, 4
_RK_LIBC.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_RK_LIBC.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
# The capabilities left in the zygote's bounding set (the launcher drops every other one):
# chown, dac_override, kill, setgid, setuid, setpcap, sys_admin.
_RK_CAPS = (0, 1, 5, 6, 7, 8, 21)
_RK_KEYCTL = {'x86_64': 250, 'aarch64': 219}.get(os.uname().machine)
_RK_LIBC.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)


def _rk_sys(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, '%s: %s' % (what, os.strerror(e)))


def _rk_mount(src, at, fstype, flags, data):
    _rk_sys(_RK_LIBC.mount(src, at, fstype, flags, data), 'mount ' + at.decode())


def _rk_write(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _rk_times(t):
    m = int(t // 60)
    return '%dm%.6fs' % (m, t - 60 * m)


class _RkSetup(Exception):
    pass


def _rk_step(name, fn, *args):
    try:
        return fn(*args)
    except Exception as e:
        raise _RkSetup(name + ' (' + str(e)[:200].replace('\n', ' ') + ')')


def _rk_connect(rid, kind):
    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    s.connect(_RK_CTL)
    s.sendall(('%s %s\n' % (rid, kind)).encode())
    return s.detach()


def _rk_drop(uid, lim):
    """In a run's process, still root: set the limits, drop every privilege, become uid."""
    cpu_soft, cpu_hard, as_bytes, nproc, fsize, nofile = lim
    R = resource
    R.setrlimit(R.RLIMIT_CORE, (0, 0))
    R.setrlimit(R.RLIMIT_NOFILE, (nofile, nofile))
    R.setrlimit(R.RLIMIT_CPU, (cpu_soft, cpu_hard))
    R.setrlimit(R.RLIMIT_AS, (as_bytes, as_bytes))
    R.setrlimit(R.RLIMIT_NPROC, (nproc, nproc))
    R.setrlimit(R.RLIMIT_FSIZE, (fsize, fsize))
    for cap in _RK_CAPS:
        _rk_sys(_RK_LIBC.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), 'capbset')
    _rk_sys(_RK_LIBC.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), 'ambient')
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _rk_sys(_RK_LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'no_new_privs')
    # A session keyring of its own: the one inherited is shared by every run (keys added to it would
    # be seen by the next program).
    if _RK_KEYCTL is not None and _RK_LIBC.syscall(_RK_KEYCTL, 1, None) == -1 and ctypes.get_errno() != 38:
        _rk_sys(-1, 'keyctl')
    _rk_sys(_RK_LIBC.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 'dumpable')


def _rk_read_payload(fd):
    buf = bytearray()
    def need(n):
        while len(buf) < n:
            chunk = os.read(fd, max(65536, n - len(buf)))
            if not chunk:
                raise EOFError('payload cut short')
            buf.extend(chunk)
    def line():
        while True:
            i = buf.find(b'\n')
            if i >= 0:
                out = bytes(buf[:i])
                del buf[:i + 1]
                return out.decode('utf-8', 'surrogateescape')
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError('payload cut short')
            buf.extend(chunk)
    src_len, nfiles, nfetch = (int(x) for x in line().split())
    files = []
    for _ in range(nfiles):
        n, path = line().split(' ', 1)
        files.append((path, int(n)))
    fetch = [line() for _ in range(nfetch)]
    out = []
    for path, n in [('prog.py', src_len)] + files:
        need(n)
        out.append((path, bytes(buf[:n])))
        del buf[:n]
    return out[0][1], out[1:], fetch


def _rk_put(path, data, uid):
    parts = path.split('/')
    d = '/tmp'
    for p in parts[:-1]:
        d = d + '/' + p
        try:
            os.mkdir(d, 0o755)
            os.chown(d, uid, uid)
        except FileExistsError:
            pass
    fd = os.open('/tmp/' + path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.fchown(fd, uid, uid)
        _rk_write(fd, data)
    finally:
        os.close(fd)


def _rk_init(rid, uid, tmp_mb, lim, netns):
    """Pid 1 of a run's pid namespace (root). Returns only in the program's process."""
    ctl = -1
    try:
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        os.setpgid(0, 0)
        ctl = _rk_step('connect', _rk_connect, rid, 'c')
        fds = [_rk_step('connect', _rk_connect, rid, k) for k in 'ioe']
        os.dup2(ctl, 3)
        os.close(ctl)
        ctl = 3
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
        os.dup2(netns, 4)
        netns = 4
        os.closerange(5, 1 << 16)
        _rk_step('unshare', lambda: _rk_sys(_RK_LIBC.setns(netns, CLONE_NEWNET), 'setns'))
        _rk_step('unshare', lambda: _rk_sys(_RK_LIBC.unshare(CLONE_NEWNS | CLONE_NEWIPC), 'unshare'))
        os.close(netns)
        _rk_step('mount', _rk_mount, None, b'/', None, MS_REC | MS_PRIVATE, None)
        _rk_step('mount', lambda: _rk_sys(_RK_LIBC.umount2(b'/tmp/.rk', MNT_DETACH), 'umount'))
        opts = ('size=%dm,nr_inodes=4096,mode=1777' % tmp_mb).encode()
        _rk_step('mount', _rk_mount, b'rk', b'/tmp', b'tmpfs', MS_NOSUID | MS_NODEV, opts)
        _rk_step('mount', _rk_mount, b'rk', b'/dev/shm', b'tmpfs', MS_NOSUID | MS_NODEV, ('size=%dm,nr_inodes=256,mode=1777' % tmp_mb).encode())
        _rk_step('mount', _rk_mount, b'proc', b'/proc', b'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, b'hidepid=2')
        src, files, fetch = _rk_step('write', _rk_read_payload, ctl)
        for path, data in files:
            _rk_step('write', _rk_put, path, data, uid)
        _rk_step('write', _rk_put, 'prog.py', src, uid)
        del src, files
        pid = _rk_step('fork', os.fork)
    except _RkSetup as e:
        if ctl >= 0:
            try:
                _rk_write(ctl, ('setup %s\n' % e).encode())
            except OSError:
                pass
        os._exit(0)
    except BaseException:
        os._exit(0)
    if pid == 0:
        try:
            os.chdir('/tmp')
            _rk_drop(uid, lim)
        except BaseException as e:
            try:
                _rk_write(3, ('setup drop (%s)\n' % str(e)[:200].replace('\n', ' ')).encode())
            finally:
                os._exit(125)
        os.close(3)
        return True
    try:
        null = os.open('/dev/null', os.O_RDWR)
        for i in range(3):
            os.dup2(null, i)
        os.close(null)
        status = None
        while status is None:
            try:
                p, st = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            if p == pid:
                status = st
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
        _rk_write(ctl, ('%s %s\n%s %s\nexit %d\n' % (_rk_times(t.user), _rk_times(t.system), _rk_times(t.children_user), _rk_times(t.children_system), rc)).encode())
        if fetch:
            f = os.fork()
            if f == 0:
                try:
                    _rk_drop(uid, (5, 6, 256 << 20, 8, 512, 64))
                    for i, path in enumerate(fetch):
                        p = '/tmp/' + path
                        if not os.path.isfile(p):
                            continue
                        try:
                            with open(p, 'rb') as fh:
                                data = fh.read()
                            line = '%d %s 0\n' % (i, binascii.b2a_base64(data, newline=False).decode('ascii'))
                        except OSError:
                            line = '%d  1\n' % i
                        _rk_write(ctl, ('file ' + line).encode())
                finally:
                    os._exit(0)
            while True:
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    break
    finally:
        os._exit(0)


def _rk_serve():
    """The zygote's loop: one run per 'R' line, forked into a fresh pid namespace."""
    own_pidns = os.open('/proc/self/ns/pid', os.O_RDONLY | os.O_CLOEXEC)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _signal.signal(_signal.SIGCHLD, lambda *a: None)
    _signal.set_wakeup_fd(wake_w)
    poll = select.poll()
    poll.register(0, select.POLLIN)
    poll.register(wake_r, select.POLLIN)
    import gc
    gc.freeze()
    pids = {}
    ids = {}
    # Network namespaces, each used by one run at a time (empty, loopback down: nothing of a run
    # outlives its processes in it), so that a run joins one (setns) instead of creating one.
    own_netns = os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    free_net = []
    net_of = {}
    buf = b''
    out = []
    out.append(b'ready %d\n' % os.getpid())
    while True:
        if out:
            _rk_write(1, b''.join(out))
            out = []
        for fd, ev in poll.poll():
            if fd == wake_r:
                try:
                    while os.read(wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass
                while True:
                    try:
                        p, st = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if p == 0:
                        break
                    rid = pids.pop(p, None)
                    if p in net_of:
                        free_net.append(net_of.pop(p))
                    if rid is not None:
                        ids.pop(rid, None)
                        out.append(b'X %s %d\n' % (rid, st))
                continue
            data = os.read(0, 65536)
            if not data:
                os._exit(0)
            buf += data
            while True:
                i = buf.find(b'\n')
                if i < 0:
                    break
                msg = buf[:i].split()
                buf = buf[i + 1:]
                if not msg:
                    continue
                if msg[0] == b'K':
                    p = ids.get(msg[1])
                    if p is not None:
                        try:
                            os.kill(p, 9)
                        except OSError:
                            pass
                    continue
                if msg[0] != b'R':
                    continue
                rid = msg[1]
                try:
                    uid, tmp_mb = int(msg[2]), int(msg[3])
                    lim = tuple(int(x) for x in msg[4:10])
                    if not free_net:
                        _rk_sys(_RK_LIBC.unshare(CLONE_NEWNET), 'unshare')
                        free_net.append(os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC))
                        _rk_sys(_RK_LIBC.setns(own_netns, CLONE_NEWNET), 'setns')
                    netns = free_net.pop()
                    _rk_sys(_RK_LIBC.unshare(CLONE_NEWPID), 'unshare')
                except (OSError, ValueError) as e:
                    out.append(b'F %s %s\n' % (rid, str(e).encode()[:200].replace(b'\n', b' ')))
                    continue
                try:
                    p = os.fork()
                except OSError as e:
                    free_net.append(netns)
                    _rk_sys(_RK_LIBC.setns(own_pidns, CLONE_NEWPID), 'setns')
                    out.append(b'F %s %s\n' % (rid, str(e).encode()[:200].replace(b'\n', b' ')))
                    continue
                if p == 0:
                    return _rk_init(rid.decode(), uid, tmp_mb, lim, netns)
                _rk_sys(_RK_LIBC.setns(own_pidns, CLONE_NEWPID), 'setns')
                net_of[p] = netns
                pids[p] = rid
                ids[rid] = p
                out.append(b'S %s %d\n' % (rid, p))


_rk_serve()
# Only a program's process gets here (its own uid, limits and namespaces; see _rk_init): it becomes
# "python3 prog.py" run in /tmp — a fresh __main__, the interpreter's own modules only.
sys.path_importer_cache.pop('/tmp', None)
sys.path_importer_cache.pop('/tmp/.rk', None)
sys.argv[:] = ['prog.py']
sys.orig_argv[1:] = ['prog.py']
sys.path[0] = '/tmp'
import builtins, gc, atexit
_rk_main = type(sys)('__main__')
_rk_main.__dict__.update({'__loader__': sys.modules['_frozen_importlib_external'].SourceFileLoader('__main__', '/tmp/prog.py'), '__annotations__': {}, '__builtins__': builtins, '__file__': '/tmp/prog.py', '__cached__': None})
sys.modules['__main__'] = _rk_main


def _rk_finish(rc, sigint=False):
    """What interpreter shutdown does that a program can see (threads joined, atexit, its objects
    finalised, stdio flushed; exit 120 when stdout cannot be flushed), then _exit: tearing down the
    heap inherited from the zygote would copy every page of it."""
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


gc.freeze()
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
