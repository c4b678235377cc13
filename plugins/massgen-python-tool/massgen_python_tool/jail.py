"""The sandbox's child side: confine this process as far as the machine allows, then exec the snippet.

Run as ``python -I -S jail.py SPEC`` (SPEC is a hex-encoded ``marshal`` dump of
the dict ``sandbox.spec_for`` builds: marshal, unlike json, costs no import)
by ``runner.run_snippet`` in a new session and process group. It imports
nothing but the standard library and never the MassGen core, because it runs
before the snippet in a process with a scrubbed environment. Levels, strongest
first (``sandbox.LEVELS``):

- ``namespaces``: new user, mount, PID, network, IPC and UTS namespaces. The
  snippet is PID 1 of its own PID namespace (every process it starts dies with
  it), sees a read-only file system made of the system and Python directories
  only (no home, no MassGen data, no host ``/tmp``), a fresh ``/proc`` showing
  only its own processes, a size-limited writable ``/tmp``, and no network
  device but a down loopback. Run by root, it keeps uid 0 without a single
  capability (only one id can be mapped from inside the namespace).
- ``landlock``: Landlock confines the file system to the same read-only
  directories plus the working directory (no ``/proc``), forbids TCP and
  signals to processes outside, and the seccomp filter below applies.
- ``seccomp``: only the seccomp filter: no socket but ``AF_UNIX`` (so no
  network), no ``ptrace``/``process_vm_*``, no mount or namespace calls, no
  ``setsid``/``setpgid`` (so nothing leaves the process group the parent kills).

Every level sets resource limits and ``no_new_privs``; outside namespaces,
root drops to ``nobody`` where nobody can still reach the interpreter. A step that fails makes
the whole run fail (exit status 125 with the reason on stderr): the parent
probed the level beforehand, so a failure here is never silently weaker.
This code runs only in the child, out of coverage's sight; the tests in
``tests/test_python_tool_sandbox.py`` run every escape against it.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import resource
import signal
import struct
import sys

SETUP_FAILED = 125
NOBODY = 65534

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

# syscall numbers that differ by architecture; the rest are the same everywhere
_ARCH = {
    "x86_64": {
        "audit": 0xC000003E, "pivot_root": 155, "seccomp": 317, "socket": 41,
        "deny": (101, 310, 311, 165, 166, 155, 272, 308, 250, 248, 249, 321, 298, 323,
                 246, 175, 313, 176, 303, 304),
        "session": (112, 109),  # setsid, setpgid
    },
    "aarch64": {
        "audit": 0xC00000B7, "pivot_root": 41, "seccomp": 277, "socket": 198,
        "deny": (117, 270, 271, 40, 39, 41, 97, 268, 219, 217, 218, 280, 241, 282,
                 104, 105, 273, 106, 264, 265),
        "session": (157, 154),
    },
}
# io_uring (it can open sockets), the new mount API, mount_setattr: same numbers on every arch
_GENERIC_DENY = (425, 426, 427, 428, 429, 430, 431, 432, 433, 442)
_LANDLOCK_CREATE, _LANDLOCK_ADD, _LANDLOCK_RESTRICT = 444, 445, 446
_MOUNT_SETATTR = 442

_libc = ctypes.CDLL(None, use_errno=True)


def _c(value: object) -> object:
    """An argument for a variadic libc call: integers widened to a C long (never a 32-bit int)."""
    return ctypes.c_long(value) if isinstance(value, int) else value


def _sys(nr: int, *args: object) -> int:
    return _libc.syscall(ctypes.c_long(nr), *map(_c, args))


def _prctl(option: int, value: int) -> int:
    return _libc.prctl(ctypes.c_int(option), ctypes.c_ulong(value), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0))


class SetupError(Exception):
    """One confinement step failed; its message names the step."""


def _check(result: int, step: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise SetupError(f"{step}: {os.strerror(err)}")
    return result


def _arch() -> dict:
    arch = _ARCH.get(os.uname().machine)
    if arch is None:
        raise SetupError(f"seccomp: unsupported architecture {os.uname().machine}")
    return arch


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


# -- namespaces -------------------------------------------------------------------------


def _enter_namespaces() -> None:
    """Unshare every namespace and map ourselves (and, for root, nobody) into the new user one."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")
    # Only our own id can be mapped from inside; root then gives up its capabilities instead.
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    result = _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(result, f"mount {target}")


def _read_only(target: str) -> None:
    """Make the mount tree at ``target`` read-only, nosuid, nodev (mount_setattr, else remount)."""

    class MountAttr(ctypes.Structure):
        _fields_ = [("set", ctypes.c_uint64), ("clr", ctypes.c_uint64),
                    ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]

    attr = MountAttr(0x1 | 0x2 | 0x4, 0, 0, 0)  # MOUNT_ATTR_RDONLY | NOSUID | NODEV
    at_fdcwd, at_recursive = -100, 0x8000
    if _sys(_MOUNT_SETATTR, at_fdcwd, target.encode(), at_recursive,
                     ctypes.byref(attr), ctypes.sizeof(attr)) == 0:
        return
    # Older kernels: remount the top mount, keeping the flags the kernel locked on it.
    keep = 0
    flag_of = {os.ST_NOEXEC: MS_NOEXEC, os.ST_NOATIME: 1024, os.ST_NODIRATIME: 2048, os.ST_RELATIME: 1 << 21}
    for st_flag, ms_flag in flag_of.items():
        if os.statvfs(target).f_flag & st_flag:
            keep |= ms_flag
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | keep)


def _place(path: str, root: str) -> None:
    """Make ``path`` of the host appear, read-only, at the same place under ``root``."""
    target = root + path
    if os.path.islink(path):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        return
    if os.path.isdir(path):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(path, target, None, MS_BIND | MS_REC)
    _read_only(target)


def _build_root(spec: dict, code: bytes) -> list[str]:
    """A new root of read-only system and Python directories, a fresh /proc, /dev and /tmp."""
    root = spec["workdir"]
    done = []
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    os.makedirs(root + "/dev", exist_ok=True)
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in ("null", "zero", "full", "random", "urandom"):
        open(f"{root}/dev/{name}", "a").close()
        _mount(f"/dev/{name}", f"{root}/dev/{name}", None, MS_BIND)
    # The fresh /tmp first, the read-only paths after: an interpreter or virtual environment that
    # lives under the host's /tmp (a CI checkout, pipx) is then mounted into it, not hidden by it.
    os.makedirs(root + "/tmp", exist_ok=True)
    size = spec["disk_bytes"]
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for path in spec["read_only"]:
        if os.path.lexists(path):
            _place(path, root)
    os.makedirs(root + "/proc", exist_ok=True)
    try:  # refused where the host's /proc is partly masked (some containers): then no /proc at all
        _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        done.append("own /proc (only the snippet's processes)")
    except SetupError:
        done.append("no /proc")
    os.makedirs(root + "/.old", exist_ok=True)
    pivot = _arch()["pivot_root"]
    _check(_sys(pivot, root.encode(), (root + "/.old").encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", ctypes.c_int(MNT_DETACH)), "umount old root")
    os.rmdir("/.old")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    work = spec["cwd"]
    os.makedirs(work, mode=0o777, exist_ok=True)
    os.chmod(work, 0o777)  # the snippet may run as nobody
    with open(os.path.join(work, "snippet.py"), "wb") as fh:
        fh.write(code)
    return done


def _drop_capabilities() -> str:
    """Root inside the namespaces keeps uid 0 but no capability, now or after exec."""
    pr_set_securebits, pr_capbset_drop, pr_cap_ambient = 28, 24, 47
    # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS off, NO_CAP_AMBIENT_RAISE: each with its lock bit
    _check(_prctl(pr_set_securebits, 0x1 | 0x2 | 0x4 | 0x8 | 0x20 | 0x40 | 0x80), "securebits")
    cap = 0
    while _prctl(pr_capbset_drop, cap) == 0:
        cap += 1
    _libc.prctl(ctypes.c_int(pr_cap_ambient), ctypes.c_ulong(4), ctypes.c_ulong(0),
                ctypes.c_ulong(0), ctypes.c_ulong(0))  # CLEAR_ALL
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = bytes(24)  # effective, permitted, inheritable: all zero, twice
    capset = {"x86_64": 126, "aarch64": 91}[os.uname().machine]
    _check(_sys(capset, header, data), "capset")
    return "root without any capability"


# -- landlock ---------------------------------------------------------------------------


def _landlock(spec: dict) -> list[str]:
    """Allow reading the read-only directories, everything in the working directory, nothing else."""
    abi = _sys(_LANDLOCK_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        raise SetupError(f"landlock: not available ({os.strerror(ctypes.get_errno())})")
    fs_all = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
    if abi >= 2:
        fs_all |= 1 << 13  # REFER
    if abi >= 3:
        fs_all |= 1 << 14  # TRUNCATE
    if abi >= 5:
        fs_all |= 1 << 15  # IOCTL_DEV
    net = 0x3 if abi >= 4 else 0  # BIND_TCP | CONNECT_TCP, with no rule allowing any port
    scoped = 0x3 if abi >= 6 else 0  # abstract unix sockets and signals outside the sandbox
    attr = struct.pack("QQQ", fs_all, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    fd = _check(_sys(_LANDLOCK_CREATE, attr[:size], size, 0), "landlock ruleset")
    file_bits = 1 | 2 | 4 | (1 << 14 if abi >= 3 else 0)  # EXECUTE, WRITE_FILE, READ_FILE, TRUNCATE
    read = 1 | 4 | 8  # EXECUTE, READ_FILE, READ_DIR
    rules = [(p, read) for p in spec["read_only"] if os.path.exists(p)]
    rules += [(spec["workdir"], fs_all), ("/dev/null", 2 | 4), ("/dev/zero", 4), ("/dev/urandom", 4)]
    for path, access in rules:
        if not os.path.isdir(path):
            access &= file_bits
        parent = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = struct.pack("=Qi", access, parent)
        _check(_sys(_LANDLOCK_ADD, fd, 1, rule, 0), f"landlock rule {path}")
        os.close(parent)
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    _check(_sys(_LANDLOCK_RESTRICT, fd, 0), "landlock restrict")
    os.close(fd)
    done = [f"landlock ABI {abi}: read-only system and Python directories, writes only in the working directory, no /proc"]
    if net:
        done.append("landlock: no TCP")
    if scoped:
        done.append("landlock: no signals to processes outside the sandbox")
    return done


# -- seccomp ----------------------------------------------------------------------------


def _bpf(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def seccomp_program(arch: dict, *, allow_unix: bool, keep_group: bool) -> bytes:
    """The BPF filter: deny the calls that escape or spy, and sockets other than AF_UNIX."""
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, kill = 0x7FFF0000, 0x80000000
    eperm, eacces, enosys = 0x00050000 | 1, 0x00050000 | 13, 0x00050000 | 38
    prog = [_bpf(ld, 4), _bpf(jeq, arch["audit"], 1, 0), _bpf(ret, kill), _bpf(ld, 0)]
    if arch["audit"] == 0xC000003E:  # x32 calls on x86_64 carry this bit
        prog += [_bpf(jge, 0x40000000, 0, 1), _bpf(ret, enosys)]
    denied = [*arch["deny"], *_GENERIC_DENY, *(arch["session"] if keep_group else ())]
    for nr in denied:
        prog += [_bpf(jeq, nr, 0, 1), _bpf(ret, eperm)]
    if allow_unix:
        prog += [_bpf(jeq, arch["socket"], 0, 4), _bpf(ld, 16), _bpf(jeq, 1, 0, 1),
                 _bpf(ret, allow), _bpf(ret, eacces)]
    else:
        prog += [_bpf(jeq, arch["socket"], 0, 1), _bpf(ret, eacces)]
    prog.append(_bpf(ret, allow))
    return b"".join(prog)


def _seccomp(*, allow_unix: bool, keep_group: bool) -> str:
    arch = _arch()
    program = seccomp_program(arch, allow_unix=allow_unix, keep_group=keep_group)
    buf = ctypes.create_string_buffer(program, len(program))

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Fprog(len(program) // 8, ctypes.addressof(buf))
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    _check(_sys(arch["seccomp"], 1, 0, ctypes.byref(fprog)), "seccomp")  # SET_MODE_FILTER
    kinds = "AF_UNIX only" if allow_unix else "none"
    extra = ", setsid/setpgid" if keep_group else ""
    return f"seccomp: sockets {kinds}; no ptrace, process_vm, mount, namespaces, keyctl, bpf, io_uring{extra}"


# -- the common tail --------------------------------------------------------------------


def _drop_root(spec: dict) -> list[str]:
    if os.getuid() != 0 or not spec["drop_root"] or not hasattr(os, "setresuid"):
        return []
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    return ["runs as nobody, not root"]


def _limits(spec: dict, *, fresh_uid: bool) -> str:
    def cap(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_AS, spec["memory_bytes"])
    cap(resource.RLIMIT_CPU, spec["cpu_seconds"])
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_FSIZE, spec["disk_bytes"])
    cap(resource.RLIMIT_NOFILE, 256)
    mib = 1024 * 1024
    text = (f"limits per process: {spec['memory_bytes'] // mib} MiB of memory, {spec['cpu_seconds']} s of CPU, "
            f"files up to {spec['disk_bytes'] // mib} MiB, 256 open files")
    if fresh_uid:  # RLIMIT_NPROC counts every process of the uid: only safe on one nobody else uses
        cap(resource.RLIMIT_NPROC, spec["max_processes"])
        text += f", {spec['max_processes']} processes"
    return text


def _confine(spec: dict, code: bytes) -> list[str]:
    """Everything after the namespaces (or instead of them); returns what now holds."""
    level = spec["level"]
    done: list[str] = []
    if level == "namespaces":
        done += ["own user, mount, PID, network, IPC and UTS namespaces",
                 "no network (no device but a down loopback)",
                 "PID 1 of its own PID namespace: every process it starts dies with it",
                 "read-only file system: system and Python directories only, no home or MassGen data"]
        done += _build_root(spec, code)
        os.chdir(spec["cwd"])
        _libc.sethostname(b"massgen-sandbox", ctypes.c_size_t(15))
    was_root = os.getuid() == 0
    if level != "namespaces":
        done += _drop_root(spec)
    if os.getuid() == 0 and os.uname().sysname == "Linux":
        done.append(_drop_capabilities())
    done.append(_limits(spec, fresh_uid=level == "namespaces" or (was_root and spec["drop_root"])))
    done.append("environment: PATH, HOME, TMPDIR, locale and TZ only")
    if level == "landlock":
        done += _landlock(spec)
    if level in ("namespaces", "landlock", "seccomp"):
        done.append(_seccomp(allow_unix=level == "namespaces", keep_group=level != "namespaces"))
    elif hasattr(_libc, "prctl"):  # level none: still no setuid gains (Linux only)
        _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    return done


def _exec_snippet(spec: dict) -> None:
    python = spec["python"]
    os.execve(python, [python, "-I", "-X", "utf8", "snippet.py"], spec["env"])


def _child(spec: dict, code: bytes) -> None:
    """PID 1 of the new namespaces (or the process itself, without them): confine, then exec."""
    try:
        if spec["level"] == "namespaces":  # die with the jail process that waits for us
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        done = _confine(spec, code)
        if spec["probe"]:  # say what holds, a line each, then show that the interpreter starts
            print("\n".join(done), flush=True)
        _exec_snippet(spec)
    except (SetupError, OSError) as exc:
        print(f"massgen sandbox ({spec['level']}): {exc}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)


def _mirror(status: int) -> None:
    """Leave the way the snippet left: the same exit status, or the same signal."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else SETUP_FAILED)


def main(argv: list[str]) -> None:
    spec = marshal.loads(bytes.fromhex(argv[1]))
    with open(spec["code_path"], "rb") as fh:
        code = fh.read()
    if spec["level"] != "namespaces":
        os.chdir(spec["cwd"])
        _child(spec, code)
    try:
        _enter_namespaces()
    except (SetupError, OSError) as exc:
        print(f"massgen sandbox (namespaces): {exc}", file=sys.stderr, flush=True)
        os._exit(SETUP_FAILED)
    pid = os.fork()
    if pid == 0:
        _child(spec, code)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: os.kill(pid, signal.SIGKILL))
    _, status = os.waitpid(pid, 0)
    _mirror(status)


if __name__ == "__main__":
    main(sys.argv)
