"""Run untrusted model-written code (HumanEval completions) in a separate, confined process.

Each program runs as `python -I -S -B` under these layers, all of them required (`check()` says what is
missing; `run_program` raises SandboxUnavailable rather than run unconfined):
- its own session and an empty PID namespace (`unshare --pid --fork --kill-child`, with a fresh /proc):
  when its first process ends or is killed, the kernel kills every descendant, double-forked and
  `setsid` ones included; nothing outlives the run;
- an empty network namespace (`unshare --net`) and a seccomp filter that fails `socket`/`socketpair`
  (every family: AF_INET/6, AF_UNIX, netlink, also through `_socket` or ctypes), io_uring, ptrace,
  process_vm_*, mount, bpf, perf_event_open, keyctl and new namespaces;
- Landlock: the only writable place is a private temporary directory (deleted afterwards); readable are
  only the interpreter and its standard library (and /usr, /lib*); no project file, no /proc (so no
  other process's environment), no home directory; no TCP bind/connect, no signals to outside processes;
- a minimal environment (PATH, HOME/TMPDIR = the temp dir), stdin /dev/null, stdout/stderr into files
  of at most 10 MB (no pipe a leftover process could hold open), bounded waits;
- rlimits: CPU time, address space, file size, no core dumps, open files, and a process-count limit
  (`max_procs`; as root the program runs as nobody, since the kernel does not count root's processes).
`passed` needs exit status 0 and a random token the launcher prints after the program ran to its end
(the token is not in the program file), so an `exit(0)` half-way does not pass. (Code running in the
same interpreter could still dig the token out of memory: the token guards against accidents.)

This is a strong guard for one machine's evaluation (loops, exits, stray files, fork bombs, hostile
code trying to read or phone out), not a replacement for a container or VM when evaluating untrusted
models at scale: use one (e.g. `docker run --network none --read-only ...`) there.
"""
from __future__ import annotations

import functools
import os
import platform
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile

from stages.io import StageError

NOBODY = 65534
OUTPUT_LIMIT = 10 * 1024 * 1024

# Launcher run with `python -I -S -B -c JAIL <allowed paths...>`: reads the token from stdin, applies
# Landlock and seccomp (irreversible), runs prog.py, then prints the token.
JAIL = r'''
import ctypes, os, platform, struct, sys
token = sys.stdin.readline().strip()
fd = os.open("/dev/null", os.O_RDONLY); os.dup2(fd, 0); os.close(fd)
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def fail(what):
    sys.stderr.write("sandbox: cannot apply %s (errno %d)\n" % (what, ctypes.get_errno())); os._exit(111)
if libc.prctl(38, 1, 0, 0, 0) != 0: fail("no_new_privs")
abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
if abi < 1: fail("landlock")
fs = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (1 << 14 if abi >= 3 else 0) | (1 << 15 if abi >= 5 else 0)
net, scoped = (3 if abi >= 4 else 0), (3 if abi >= 6 else 0)
attr = struct.pack("QQQ", fs, net, scoped)[: 8 if abi < 4 else 16 if abi < 6 else 24]
rs = libc.syscall(444, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
if rs < 0: fail("landlock ruleset")
FILE = 1 | 2 | 4 | (1 << 14 if abi >= 3 else 0)
def allow(path, access):
    try:
        pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    if not os.path.isdir(path):
        access &= FILE
    rule = struct.pack("=Qi", access, pfd)
    r = libc.syscall(445, ctypes.c_int(rs), ctypes.c_int(1), ctypes.c_char_p(rule), ctypes.c_uint32(0))
    os.close(pfd)
    if r != 0: fail("landlock rule for " + path)
tmp, reads = sys.argv[1], sys.argv[2:]
for p in reads:
    allow(p, 1 | 4 | 8)
allow(tmp, fs)
for p in ("/dev/null", "/dev/zero", "/dev/urandom"):
    allow(p, 2 | 4)
if libc.syscall(446, ctypes.c_int(rs), ctypes.c_uint32(0)) != 0: fail("landlock restrict")
arch, blocked = {"x86_64": (0xC000003E, (41, 53, 425, 426, 427, 101, 310, 311, 165, 166, 321, 298, 250, 272, 308, 323, 155)),
                 "aarch64": (0xC00000B7, (198, 199, 425, 426, 427, 117, 270, 271, 40, 39, 280, 241, 219, 97, 268, 282, 41))}[platform.machine()]
EPERM_RET, ALLOW, KILL = 0x00050000 | 1, 0x7FFF0000, 0x80000000
prog = [(0x20, 0, 0, 4), (0x15, 1, 0, arch), (0x06, 0, 0, KILL), (0x20, 0, 0, 0)]
if platform.machine() == "x86_64":
    prog.append((0x35, len(blocked) + 1, 0, 0x40000000))  # x32 ABI numbers: refuse
for i, nr in enumerate(blocked):
    prog.append((0x15, len(blocked) - i, 0, nr))
prog += [(0x06, 0, 0, ALLOW), (0x06, 0, 0, EPERM_RET)]
buf = b"".join(struct.pack("HBBI", *ins) for ins in prog)
filt = ctypes.create_string_buffer(buf)
fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(filt))
if libc.prctl(22, 2, ctypes.c_char_p(fprog), 0, 0) != 0: fail("seccomp")
del libc, ctypes, struct, platform, filt, fprog, buf, attr
sys.argv = [os.path.join(tmp, "prog.py")]
with open(sys.argv[0], encoding="utf-8") as f:
    code = compile(f.read(), sys.argv[0], "exec")
g = {"__name__": "__main__", "__file__": sys.argv[0], "__builtins__": __builtins__}
exec(code, g)
sys.stdout.flush()
os.write(1, ("\n" + token + "\n").encode())
'''

PRELUDE = """\
import socket as _s
def _no_net(*a, **k):
    raise OSError("network disabled in the sandbox")
_s.socket = _no_net
_s.create_connection = _no_net
del _s, _no_net
"""


class SandboxUnavailable(StageError):
    """A confinement layer the sandbox needs is not available on this machine."""


def _python() -> tuple[str, list[str]]:
    """(interpreter, directories it needs to read) for the sandboxed program."""
    if os.geteuid() == 0 and os.access("/usr/bin/python3", os.X_OK):
        exe = os.path.realpath("/usr/bin/python3")  # readable by nobody (a root-only pyenv is not)
        return exe, [os.path.dirname(exe)]
    exe = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    return exe, [os.path.dirname(exe), sys.base_prefix]


@functools.lru_cache(maxsize=1)
def check() -> str | None:
    """None when every layer works here, else what is missing (with how to fix it)."""
    exe = shutil.which("unshare")
    if not exe:
        return "the `unshare` command (util-linux) is missing: apt-get install util-linux"
    res = run_program("assert 1 + 1 == 2\n", timeout=20, memory_mb=512, _checked=True)
    if res["status"] != "passed":
        return (f"user/PID/network namespaces, Landlock or seccomp are not usable here ({res['stderr'][-300:]!r}); "
                f"run the evaluation where they are (Linux >= 5.13 with unprivileged user namespaces) or in a "
                f"container without network")
    return None


def _count_processes(uid: int) -> int:
    n = 0
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == uid:
                n += 1
        except OSError:
            pass
    return n


def _limits(timeout: float, memory_mb: int, max_procs: int, uid: int | None):
    nproc = (_count_processes(uid if uid is not None else os.getuid()) + max_procs)

    def apply():
        os.setsid()
        cpu = int(timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT, OUTPUT_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if uid is not None:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
    return apply


def run_program(code: str, timeout: float = 10.0, memory_mb: int = 1024, max_procs: int = 32,
                _checked: bool = False) -> dict:
    """Run `code`; returns {status: passed|failed|timeout, returncode, stderr (last 500 chars; the random
    temp dir written as `<sandbox>`, so the same program gives the same stderr)}."""
    if not _checked and (why := check()):
        raise SandboxUnavailable(f"HumanEval sandbox unavailable: {why}")
    token = secrets.token_hex(16)
    uid = NOBODY if os.geteuid() == 0 else None
    exe, reads = _python()
    reads = sorted(set(reads) | {p for p in ("/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache") if os.path.exists(p)})
    unshare = [shutil.which("unshare") or "unshare", "--user", "--map-root-user", "--net", "--pid", "--fork",
               "--kill-child", "--mount-proc"]
    tmp = tempfile.mkdtemp(prefix="mseed-sandbox-")
    logs = tempfile.mkdtemp(prefix="mseed-sandbox-out-")  # ours: the program cannot reach it
    try:
        with open(os.path.join(tmp, "prog.py"), "w", encoding="utf-8") as f:
            f.write(PRELUDE + "\n" + code + "\n")
        if uid is not None:
            for p in (tmp, os.path.join(tmp, "prog.py")):
                os.chown(p, uid, uid)
        env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "HOME": tmp, "TMPDIR": tmp, "OMP_NUM_THREADS": "1",
               "LANG": "C.UTF-8"}
        out_path, err_path = os.path.join(logs, "out"), os.path.join(logs, "err")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(unshare + [exe, "-I", "-S", "-B", "-c", JAIL, tmp, *reads], cwd=tmp, env=env,
                                    stdin=subprocess.PIPE, stdout=out, stderr=err,
                                    preexec_fn=_limits(timeout, memory_mb, max_procs, uid))
        try:
            proc.stdin.write((token + "\n").encode())
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
        _kill(proc)
        with open(out_path, "rb") as f:
            f.seek(max(0, os.path.getsize(out_path) - 4096))
            tail = f.read()
        with open(err_path, "rb") as f:
            f.seek(max(0, os.path.getsize(err_path) - 2000))
            stderr = f.read().decode("utf-8", "replace").replace(tmp, "<sandbox>")  # stable across runs
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
    if timed_out:
        status = "timeout"
    else:
        status = "passed" if proc.returncode == 0 and token.encode() in tail.split(b"\n") else "failed"
    return {"status": status, "returncode": proc.returncode, "stderr": stderr[-500:]}


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the launcher's process group; with it goes the PID namespace and every process in it."""
    for _ in range(2):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def humaneval_program(problem: dict, completion: str) -> str:
    """The program HumanEval's own harness runs: prompt + completion + tests + check(entry_point)."""
    return (problem["prompt"] + completion + "\n\n" + problem["test"] + "\n\n"
            + f"check({problem['entry_point']})\n")
