"""The promises of the setup itself: exact pins, the two commands, CI running `make test`."""

from __future__ import annotations

from conftest import REPO


def test_requirements_pin_everything_exactly():
    lines = [ln for ln in (REPO / "requirements.txt").read_text().splitlines() if ln.strip()]
    assert all("==" in ln for ln in lines), [ln for ln in lines if "==" not in ln]
    assert "torch==2.14.1" in lines and "torchvision==0.29.1" in lines


def test_ci_runs_the_readme_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_makefile_has_the_documented_targets():
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo:", "test:", "train:", "bench:", "lint:"):
        assert f"\n{target}" in makefile


def test_tests_cannot_reach_the_network():
    import socket

    import pytest

    with pytest.raises(OSError, match="may not reach the network"):
        socket.create_connection(("203.0.113.1", 80), timeout=1)  # TEST-NET-3, never routed
