"""Every command that reads input, on every kind of bad input: one line, exit code 2, no hang.

Each case runs the real ``rtscope`` entry point in a subprocess with a 1 GiB address-space limit
(so reading a 2 GB file into memory fails the test with a MemoryError traceback instead of passing
slowly) and a timeout (so a hang fails it too).

What "empty" means: an input with no connection and no message (0 bytes, or blank lines). For
every command that is unusable input ("no events in this input" / "no WebSocket messages"): there
is nothing to analyze, show, export, import, replay, serve or compare, and exit 0 would let a
script mistake a recorder that wrote nothing for a clean session.
"""

from __future__ import annotations

import gzip
import random
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
GOOD = FIXTURES / "ga-echo.jsonl"
TWO_GB = 2 * 2**30

V99 = (
    b'{"kind":"header","format":"rtscope.capture","version":99,'
    b'"created":"2026-01-01T00:00:00Z","tool":"rtscope 9.0.0"}\n'
    b'{"kind":"open","conn":"1","t":1.0,"url":"ws://127.0.0.1/v1/realtime",'
    b'"request_headers":{},"response_headers":{},"status":101}\n'
)
HAR_NO_WS = (
    b'{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[{'
    b'"startedDateTime":"2026-01-01T00:00:00Z","time":1,'
    b'"request":{"method":"GET","url":"https://127.0.0.1/","headers":[]},'
    b'"response":{"status":200,"headers":[]}}]}}'
)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sparse(path: Path, prefix: bytes = b"") -> Path:
    """A 2 GB file (zeros after ``prefix``) that takes no disk space: never read whole."""
    path.write_bytes(prefix)
    with open(path, "r+b") as f:
        f.truncate(TWO_GB)
    return path


def _truncated_gzip(directory: Path) -> Path:
    data = gzip.compress(GOOD.read_bytes() * 20)
    return _write(directory / "cut.jsonl.gz", data[: len(data) // 2])


def _empty_dir(path: Path) -> Path:
    path.mkdir()
    (path / "notes.md").write_text("not a capture\n")
    return path


#: case id → (make the input in a directory, a fragment the one error line must contain)
CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (lambda d: _write(d / "empty.jsonl", b""), "no "),
    "blank-lines": (lambda d: _write(d / "blank.jsonl", b"\n  \n\n"), "no "),
    "binary-garbage": (
        lambda d: _write(d / "garbage.bin", random.Random(7).randbytes(4000)),
        ":1: ",
    ),
    "truncated-gzip": (_truncated_gzip, "compressed data is damaged"),
    "version-99": (lambda d: _write(d / "v99.jsonl", V99), "capture format version 99"),
    "har-without-websocket": (
        lambda d: _write(d / "plain.har", HAR_NO_WS),
        "no WebSocket entries",
    ),
    "directory-without-captures": (lambda d: _empty_dir(d / "nothing-here"), "directory"),
    "missing-path": (lambda d: d / "does-not-exist.jsonl", "no such file"),
    "2gb-sparse": (lambda d: _sparse(d / "huge.jsonl"), "binary data, not a capture"),
}

#: Extra 2 GB shapes, each sniffed as another kind of input (capture lines, HAR, pasted log).
#: The HAR and log prefixes are longer than the 4 KiB in which the sniffer looks for NUL bytes,
#: so these reach the importers (which parse whole files) rather than the capture reader.
BIG_VARIANTS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "2gb-capture-then-zeros": (
        lambda d: _sparse(d / "capture-then-zeros.jsonl", GOOD.read_bytes()),
        "line longer than",
    ),
    "2gb-har-prefix": (
        lambda d: _sparse(d / "huge.har", b'{"log": {"entries": [\n' + b" " * 8192),
        "too large",
    ),
    # A tnetstring whose length prefix says 2 GB: mitmproxy would read (allocate) it at once.
    "2gb-flow-prefix": (
        lambda d: _sparse(d / "huge.mitm", b"2000000000:4:path;"),
        "flow 1 is larger than",
    ),
    "2gb-pasted-log-prefix": (
        lambda d: _sparse(d / "huge.txt", b"here is my log:\n" * 1024),
        "too large",
    ),
}


def _commands(out: Path) -> dict[str, Callable[[str], list[str]]]:
    return {
        "analyze": lambda p: ["analyze", p],
        "show": lambda p: ["show", p, "--no-color"],
        "report": lambda p: ["report", p, "-o", str(out / "r.html")],
        "export-har": lambda p: ["export", p, "--har", str(out / "o.har")],
        "export-wav": lambda p: ["export", p, "--wav", str(out / "wav")],
        "import": lambda p: ["import", p, "-o", str(out / "imported.jsonl")],
        # The input is refused before any connection: port 9 (discard) on loopback is never used.
        "replay": lambda p: [
            "replay",
            p,
            "--target",
            "ws://127.0.0.1:9/v1/realtime",
            "--out",
            str(out / "rep"),
        ],  # fmt: skip
        # A good CAPTURE would serve forever (the timeout would fail the test): it must refuse.
        "serve": lambda p: ["serve", p, "--listen", "127.0.0.1:0"],
        "diff-a": lambda p: ["diff", p, str(GOOD)],
        "diff-b": lambda p: ["diff", str(GOOD), p],
    }


COMMAND_IDS = list(_commands(Path(".")))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))


def run_limited(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI, in a subprocess with 1 GiB of address space and a 30 s bound."""
    return subprocess.run(
        [sys.executable, "-m", "rtscope", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limit_memory,
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad-inputs")
    return {name: make(d) for name, (make, _) in {**CASES, **BIG_VARIANTS}.items()}


def _check_one_line(done: subprocess.CompletedProcess[str], path: Path, fragment: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("rtscope: "), lines[0]
    assert path.name in lines[0], lines[0]
    assert fragment in lines[0], lines[0]
    assert done.returncode == 2, (done.returncode, done.stderr)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", COMMAND_IDS)
def test_bad_input_gives_one_rtscope_line_and_exit_2(
    command: str, case: str, inputs: dict[str, Path], tmp_path: Path
) -> None:
    path = inputs[case]
    done = run_limited(_commands(tmp_path)[command](str(path)), tmp_path)
    _check_one_line(done, path, CASES[case][1])


@pytest.mark.parametrize("case", list(BIG_VARIANTS))
@pytest.mark.parametrize("command", ["analyze", "import", "replay"])
def test_two_gigabyte_files_of_every_input_kind_are_refused_without_reading_them(
    command: str, case: str, inputs: dict[str, Path], tmp_path: Path
) -> None:
    path = inputs[case]
    done = run_limited(_commands(tmp_path)[command](str(path)), tmp_path)
    _check_one_line(done, path, BIG_VARIANTS[case][1])


@pytest.mark.parametrize("command", ["import", "export-har", "report"])
def test_a_refused_input_leaves_no_output_file_behind(
    command: str, inputs: dict[str, Path], tmp_path: Path
) -> None:
    done = run_limited(_commands(tmp_path)[command](str(inputs["empty"])), tmp_path)
    assert done.returncode == 2
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_good_capture_passes_the_same_limits(tmp_path: Path) -> None:
    """The harness itself: the memory limit and the commands work on valid input."""
    done = run_limited(["analyze", str(GOOD), "--fail-on", "never"], tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_limited(["export", str(GOOD), "--har", str(tmp_path / "ok.har")], tmp_path)
    assert done.returncode == 0, done.stderr


STDIN_COMMANDS = {
    "analyze": ["analyze", "-"],
    "show": ["show", "-", "--no-color"],
    "report": ["report", "-", "-o", "r.html"],
    "export-har": ["export", "-", "--har", "o.har"],
    "import": ["import", "-", "-o", "imported.jsonl"],
}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "<stdin>: no "),
        (bytes(range(256)) * 8, "<stdin>:1: binary data"),
        (V99, "<stdin>:1: capture format version 99"),
    ],
    ids=["empty", "binary", "version-99"],
)
@pytest.mark.parametrize("command", list(STDIN_COMMANDS))
def test_bad_standard_input_gives_one_line_and_exit_2(
    command: str, data: bytes, fragment: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rtscope", *STDIN_COMMANDS[command]],
        input=data,
        capture_output=True,
        timeout=30,
        cwd=tmp_path,
        preexec_fn=_limit_memory,
    )
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr, stderr
    assert stderr.splitlines() == [stderr.strip()] and stderr.startswith("rtscope: "), stderr
    assert fragment in stderr, stderr
    assert done.returncode == 2
    assert list(tmp_path.iterdir()) == []
