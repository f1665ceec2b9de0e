#!/usr/bin/env python3
"""test_ctypes.py: libcrvideomgr from Python's ctypes (standard library only).

Two processes, one user each (the library is a process singleton): a callee that
accepts and a caller that calls and hangs up, against a real server. The
CRVideoMgrCallbacks layout is read from include/crvideomgr.h, so this is also a
check that the header is usable by an FFI. Run through tests/run-c.sh, which
provides CRV_ADDR, CRV_ACNT, CRV_PSWD and CRV_TMP.
"""
import ctypes
import os
import queue
import re
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
LIB = os.path.join(ROOT, BUILD, "libcrvideomgr.so")
HEADER = os.path.join(ROOT, "include", "crvideomgr.h")
TIMEOUT = 10.0


def callback_fields():
    """[(name, CFUNCTYPE)] of CRVideoMgrCallbacks, in header order."""
    text = open(HEADER, encoding="utf-8").read()
    body = re.search(r"typedef struct CRVideoMgrCallbacks \{(.*?)\} CRVideoMgrCallbacks;", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    fields = []
    for name, params in re.findall(r"void \(\*(\w+)\)\(([^)]*)\);", body):
        types = []
        for p in params.split(","):
            p = p.strip()
            if p.startswith("void *"):
                types.append(ctypes.c_void_p)
            elif p.startswith("const char *"):
                types.append(ctypes.c_char_p)
            elif p.startswith("int "):
                types.append(ctypes.c_int)
            else:
                raise ValueError("unexpected parameter %r in %s" % (p, name))
        fields.append((name, ctypes.CFUNCTYPE(None, *types)))
    return fields


FIELDS = callback_fields()


class Callbacks(ctypes.Structure):
    _fields_ = FIELDS


class Client:
    """One user: loads the library, records every callback into a queue."""

    def __init__(self):
        self.lib = ctypes.CDLL(LIB)
        lib = self.lib
        lib.crvideo_init.argtypes = [ctypes.c_char_p]
        lib.crvideo_init.restype = ctypes.c_int
        lib.crvideo_setServerAddr.argtypes = [ctypes.c_char_p]
        lib.crvideo_setCallbacks.argtypes = [ctypes.POINTER(Callbacks), ctypes.c_size_t, ctypes.c_void_p]
        lib.crvideo_setCallbacks.restype = ctypes.c_int
        lib.crvideo_strerror.argtypes = [ctypes.c_int]
        lib.crvideo_strerror.restype = ctypes.c_char_p
        lib.crvideo_version.restype = ctypes.c_char_p
        lib.crvideo_free.argtypes = [ctypes.c_void_p]
        for fn in ("call", "sendCmd"):
            f = getattr(lib, "crvideomgr_" + fn)
            f.restype = ctypes.c_void_p  # freed with crvideo_free
        self.events = queue.Queue()
        self.threads = set()
        cbs = Callbacks()
        self._keep = []  # the CFUNCTYPE objects must outlive the registration
        for name, proto in FIELDS:
            fn = proto(self._recorder(name))
            self._keep.append(fn)
            setattr(cbs, name, fn)
        self._cbs = cbs
        assert lib.crvideo_setCallbacks(ctypes.byref(cbs), ctypes.sizeof(cbs), None) == 0

    def _recorder(self, name):
        def record(_userdata, *args):
            self.threads.add(threading.get_ident())
            self.events.put((name, [a.decode() if isinstance(a, bytes) else a for a in args]))
        return record

    def expect(self, name, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        pending = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no %s within %.0fs (saw %r)" % (name, timeout, pending))
                try:
                    ev = self.events.get(timeout=left)
                except queue.Empty:
                    continue
                if ev[0] == name:
                    return ev[1]
                pending.append(ev)
        finally:
            for ev in pending:
                self.events.put(ev)

    def take_id(self, ptr):
        assert ptr, "NULL ID"
        s = ctypes.string_at(ptr).decode()
        self.lib.crvideo_free(ptr)
        return s

    def start(self, user):
        lib = self.lib
        sdkdir = os.path.join(os.environ["CRV_TMP"], "sdk-py-" + user)
        assert lib.crvideo_init(sdkdir.encode()) == 0
        lib.crvideo_setServerAddr(os.environ["CRV_ADDR"].encode())
        e = os.environ
        lib.crvideomgr_login(e["CRV_ACNT"].encode(), e["CRV_PSWD"].encode(), b"Py " + user.encode(),
                             user.encode(), b"", b"py-login")
        usr_id, cookie = self.expect("loginSuccess")
        assert usr_id == user and cookie == "py-login", (usr_id, cookie)

    def stop(self):
        self.lib.crvideomgr_logout()
        self.lib.crvideo_uninit()
        assert len(self.threads) == 1, "callbacks ran on %d threads" % len(self.threads)


def barrier_path(name):
    return os.path.join(os.environ["CRV_TMP"], "py-" + name)


def wait_barrier(name):
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(barrier_path(name)):
        assert time.monotonic() < deadline, "barrier " + name
        time.sleep(0.01)


def role_callee():
    c = Client()
    c.start("py-callee")
    open(barrier_path("callee-ready"), "w").close()
    call_id, meet_obj, caller, ext = c.expect("notifyCallIn")
    assert (meet_obj, caller, ext) == ('{"ID":7}', "py-caller", "from python"), (meet_obj, caller, ext)
    c.lib.crvideomgr_acceptCall(call_id.encode(), b"", b"ok", b"acc")
    assert c.expect("acceptCallSuccess") == [call_id, "acc"]
    assert c.expect("notifyCallHungup") == [call_id, "bye"]
    c.stop()


def role_caller():
    c = Client()
    assert c.lib.crvideo_version().decode().count(".") == 2
    assert c.lib.crvideo_strerror(603) == b"callee offline"
    wait_barrier("callee-ready")
    c.start("py-caller")
    call_id = c.take_id(c.lib.crvideomgr_call(b"py-callee", b'{"ID":7}', b"from python", b"c1"))
    assert c.expect("callSuccess") == [call_id, "c1"]
    assert c.expect("notifyCallAccepted") == [call_id, "ok", ""]
    c.lib.crvideomgr_hungupCall(call_id.encode(), b"bye", b"h1")
    assert c.expect("hungupCallSuccess") == [call_id, "h1"]
    task = c.take_id(c.lib.crvideomgr_sendCmd(b"py-callee-gone", b"aGk="))
    assert c.expect("sendCmdRlst") == [task, 1102, ""]
    c.stop()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--role":
        {"callee": role_callee, "caller": role_caller}[sys.argv[2]]()
        return 0
    t0 = time.monotonic()
    procs = {r: subprocess.Popen([sys.executable, __file__, "--role", r], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT) for r in ("callee", "caller")}
    failed = 0
    for role, p in procs.items():
        try:
            out, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        if p.returncode != 0 or out:
            failed += 1
            print("    role %s exited %d:" % (role, p.returncode))
            for line in out.decode(errors="replace").splitlines():
                print("    | " + line)
    print("%s python ctypes (%d ms): two processes log in, call, accept, hang up"
          % ("[FAIL]" if failed else "[ ok ]", (time.monotonic() - t0) * 1000))
    print("python: %d passed, %d failed" % (0 if failed else 1, 1 if failed else 0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
