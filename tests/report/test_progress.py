"""rtscope.report.progress: a bar on a terminal only, silent and transparent otherwise."""

from __future__ import annotations

import io

import pytest

from rtscope.report import progress
from rtscope.report.progress import byte_progress, progress_enabled, track


class FakeTty(io.StringIO):
    """A text stream that claims to be a terminal, so rich draws into a buffer we can read."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(progress.ENV_VAR, raising=False)


def test_track_off_a_terminal_yields_every_item_and_writes_nothing() -> None:
    out = io.StringIO()
    assert list(track(iter(range(5)), description="x", stream=out)) == [0, 1, 2, 3, 4]
    assert out.getvalue() == ""


def test_track_on_a_terminal_yields_every_item_and_draws_a_bar() -> None:
    out = FakeTty()
    assert list(track([1, 2, 3], description="analyzing", stream=out)) == [1, 2, 3]
    drawn = out.getvalue()
    assert "analyzing" in drawn
    assert "3/3" in drawn  # the total came from len() of the list


def test_byte_progress_off_a_terminal_gives_a_no_op_advance() -> None:
    out = io.StringIO()
    with byte_progress(100, stream=out) as advance:
        advance(40)
        advance(60)
    assert out.getvalue() == ""


def test_byte_progress_on_a_terminal_counts_bytes() -> None:
    out = FakeTty()
    with byte_progress(2048, description="importing", stream=out) as advance:
        advance(1024)
        advance(1024)
    drawn = out.getvalue()
    assert "importing" in drawn
    assert "2.0/2.0 kB" in drawn or "2.0 kB" in drawn


def test_environment_variable_forces_the_bar_off_or_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.ENV_VAR, "0")
    assert not progress_enabled(FakeTty())
    monkeypatch.setenv(progress.ENV_VAR, "1")
    assert progress_enabled(io.StringIO())


def test_a_closed_stream_means_no_bar() -> None:
    out = io.StringIO()
    out.close()
    assert not progress_enabled(out)
