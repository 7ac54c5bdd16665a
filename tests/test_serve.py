"""`reporter serve`: a real MkDocs development server that rebuilds when a spec changes."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import LOADED_SPEC, tiny_checkpoint

pytestmark = pytest.mark.slow


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


def test_serve_rebuilds_a_model_page_when_its_spec_changes(make_project, tmp_path: Path) -> None:
    root = make_project(
        {"tiny-loaded": LOADED_SPEC}, {"models/tiny-loaded/weights/tiny.safetensors": tiny_checkpoint()}
    )
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "-m", "reporter.cli", "serve", str(root), "--dev-addr", f"127.0.0.1:{port}"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    page = f"http://127.0.0.1:{port}/models/tiny-loaded/index.html"
    try:
        first = _page_once(page, "Tiny &lt;b&gt;checkpoint&lt;/b&gt;", server=server, timeout=300)
        assert "edited while serving" not in first
        spec = root / "models" / "tiny-loaded" / "model.yaml"
        spec.write_text(spec.read_text().replace("intended_uses: [tests]", "intended_uses: [edited while serving]"))
        _page_once(page, "edited while serving", server=server, timeout=300)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.seek(0)
        output = log.read()
        log.close()
    assert "Serving on" in output, output
    assert "Traceback" not in output, output


def test_serve_outside_a_project_is_bad_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reporter.cli", "serve", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "mkdocs.yml: not found" in result.stderr
