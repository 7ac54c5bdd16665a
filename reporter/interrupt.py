"""Stopping a long-running command (`reporter serve`) on SIGINT or SIGTERM, whatever state it is in.

A process started in the background by a non-interactive shell (as CI runners and job scripts
start commands) inherits SIGINT *ignored*, and Python then never installs its Ctrl-C handler, so
`mkdocs serve` would keep serving after any number of SIGINTs; SIGTERM would kill it without
cleaning up. Within :func:`stop_on_signals` both signals raise :class:`KeyboardInterrupt` in the
main thread, which MkDocs' server handles as a shutdown (also in the middle of a rebuild). If the
shutdown is not over within the grace period, or a second signal arrives, the process exits at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130
GRACE_SECONDS = 10.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(*, grace_seconds: float = GRACE_SECONDS) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM interrupt the main thread (see the module docstring)."""
    received = threading.Event()

    def exit_now() -> None:
        print("reporter: did not stop in time after the signal; exiting now", file=sys.stderr, flush=True)
        os._exit(EXIT_INTERRUPTED)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if received.is_set():
            exit_now()
        received.set()
        deadline = threading.Timer(grace_seconds, exit_now)
        deadline.daemon = True
        deadline.start()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, interrupt) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
