"""`reporter serve`: a real MkDocs development server that rebuilds when a spec changes."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import LOADED_SPEC, TABULAR_SPEC, tiny_checkpoint

pytestmark = pytest.mark.slow

STOP_WITHIN = 15.0  # seconds; the server's own grace period after a signal is 10 s


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _page_once(url: str, needle: str, *, server: subprocess.Popen[str], timeout: float) -> str:
    """The page at ``url`` once it contains ``needle`` (the server may still be building)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode("utf-8")
            if needle in text:
                return text
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not show {needle!r} within {timeout} s")


def _ignore_sigint() -> None:
    """What a non-interactive shell gives a command it starts in the background (as CI runners do):
    SIGINT ignored. The server must stop on SIGINT all the same."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def serving(root: Path, log_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`reporter serve` of ``root`` on a free port; killed on the way out whatever happened, so no
    server outlives a failed test."""
    port = _free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "reporter.cli", "serve", str(root), "--dev-addr", f"127.0.0.1:{port}"],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_ignore_sigint,
        )
        try:
            yield server, port
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(timeout=30)


def _stop(server: subprocess.Popen[str], signum: int) -> float:
    """Send ``signum`` and return how long the server took to exit."""
    sent = time.monotonic()
    server.send_signal(signum)
    server.wait(timeout=STOP_WITHIN)
    return time.monotonic() - sent


def _wait_for_log(log_path: Path, needle: str, *, after: int, server: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while needle not in log_path.read_text()[after:]:
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, f"{needle!r} not logged within {timeout} s"
        time.sleep(0.05)


def test_serve_rebuilds_a_model_page_when_its_spec_changes(make_project, tmp_path: Path) -> None:
    root = make_project(
        {"tiny-loaded": LOADED_SPEC}, {"models/tiny-loaded/weights/tiny.safetensors": tiny_checkpoint()}
    )
    log_path = tmp_path / "serve.log"
    with serving(root, log_path) as (server, port):
        page = f"http://127.0.0.1:{port}/models/tiny-loaded/index.html"
        first = _page_once(page, "Tiny &lt;b&gt;checkpoint&lt;/b&gt;", server=server, timeout=300)
        assert "edited while serving" not in first
        spec = root / "models" / "tiny-loaded" / "model.yaml"
        spec.write_text(spec.read_text().replace("intended_uses: [tests]", "intended_uses: [edited while serving]"))
        _page_once(page, "edited while serving", server=server, timeout=300)
        assert _stop(server, signal.SIGINT) < STOP_WITHIN
    output = log_path.read_text()
    assert "Serving on" in output, output
    assert "Traceback" not in output, output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_promptly_when_signalled_mid_rebuild(make_project, tmp_path: Path, signum: int) -> None:
    root = make_project({"mlp": TABULAR_SPEC.replace("epochs: 2", "epochs: 40")})
    log_path = tmp_path / "serve.log"
    with serving(root, log_path) as (server, port):
        _page_once(f"http://127.0.0.1:{port}/models/mlp/index.html", "Test MLP", server=server, timeout=600)
        logged = len(log_path.read_text())
        spec = root / "models" / "mlp" / "model.yaml"
        spec.write_text(spec.read_text().replace("hidden_sizes: [16]", "hidden_sizes: [12]"))  # retrains: seconds
        _wait_for_log(log_path, "Building documentation", after=logged, server=server, timeout=120)
        time.sleep(1.0)  # inside the pipeline: training the edited model
        assert "Reloading browsers" not in log_path.read_text()[logged:], "the rebuild ended before the signal"
        took = _stop(server, signum)
    assert took < STOP_WITHIN, f"stopped after {took:.1f} s"
    output = log_path.read_text()
    assert "did not stop in time" not in output, output  # a clean shutdown, not the grace-period exit
    assert "Traceback" not in output, output
    assert not list(root.glob("site/.*")), "a half-written site was left behind"


def test_serve_outside_a_project_is_bad_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reporter.cli", "serve", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "mkdocs.yml: not found" in result.stderr
