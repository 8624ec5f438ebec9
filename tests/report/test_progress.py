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


def test_track_with_every_still_yields_every_item_and_reaches_the_total() -> None:
    out = FakeTty()
    items = list(range(1001))
    assert list(track(items, description="records", every=250, stream=out)) == items
    assert "1001/1001" in out.getvalue()  # the remainder after the last full batch counted too


def test_steps_counts_up_to_its_total_on_a_terminal_only() -> None:
    out = FakeTty()
    with progress.steps(3, "replaying", stream=out) as bar:
        for _ in range(3):
            bar()
    assert "3/3" in out.getvalue()
    quiet = io.StringIO()
    with progress.steps(3, "replaying", stream=quiet) as bar:
        bar()
    assert quiet.getvalue() == ""


def test_counted_input_without_a_bar_is_the_path_itself(tmp_path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"{}\n")
    with byte_progress(3, stream=io.StringIO()) as bar, progress.counted_input(path, bar) as src:
        assert src is path


def test_counted_input_reports_every_byte_read_once(tmp_path) -> None:
    path = tmp_path / "x.bin"
    data = bytes(range(256)) * 1000
    path.write_bytes(data)
    seen: list[int] = []

    class Recording(progress.Bar):
        active = True

        def __call__(self, n: int = 1) -> None:
            seen.append(n)

    with progress.counted_input(path, Recording()) as src:
        assert not isinstance(src, str | type(path))
        assert src.read() == data
    assert sum(seen) == len(data)


def test_counted_input_leaves_an_unopenable_path_to_the_reader(tmp_path) -> None:
    missing = tmp_path / "missing.jsonl"

    class Active(progress.Bar):
        active = True

    with progress.counted_input(missing, Active()) as src:
        assert src is missing  # open_source will say "no such file" in its own words


def test_total_size_sums_files_and_gives_up_on_a_missing_one(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"x" * 10)
    b.write_bytes(b"y" * 5)
    assert progress.total_size([a, b]) == 15
    assert progress.total_size([a, tmp_path / "nope"]) is None


def test_long_descriptions_keep_their_verb_and_their_end() -> None:
    short = progress._short("analyzing captures/2026/11/21/some-very-long-capture-name.jsonl")
    assert short.startswith("analyzing …")
    assert short.endswith("-name.jsonl")
    assert len(short) == 28
