"""One visitor's process: a served app that ends with the server that started it.

    python -m rnntui.web.visitor MODULE [ARG ...]    # runs `python -m MODULE ARG ...`

A visitor's app talks to the server through pipes. When the server is killed
before it can stop its visitors, nothing tells the app, which would go on
training for nobody; so the process first asks the kernel for a SIGTERM when
its parent dies (Linux), which ends the app as any SIGTERM does.
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_parent() -> None:
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    except (OSError, AttributeError):  # not Linux: the server's own shutdown is all there is
        return
    if os.getppid() != parent:  # the server died before the request took hold
        os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    end_with_parent()
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
