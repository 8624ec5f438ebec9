"""Coverage-guided fuzz targets (atheris / libFuzzer) for rtscope's input side.

Usage::

    python tests/fuzz/atheris_targets.py TARGET [libFuzzer flags] [CORPUS_DIR...]
    python tests/fuzz/atheris_targets.py reader -runs=2000 /tmp/corpus-reader
    make fuzz                                        # every target, 60 s each

Targets:

- ``reader``: :class:`~rtscope.capture.reader.CaptureReader` over the bytes;
- ``importers``: :func:`~rtscope.capture.sources.open_source` (sniff, then HAR, mitmproxy flows,
  pasted logs or capture reader);
- ``analyzer``: whatever records ``open_source`` gets out of the bytes, fed to a strict
  :class:`~rtscope.analyzers.LiveAnalyzer` with every rule, plus ``tick``/``finish``.

The only exception allowed out of a target is :class:`~rtscope.errors.CaptureError`; anything
else is a crash that libFuzzer reports with the input that caused it. ``--seed-corpus DIR``
copies the repository's fixtures into DIR first (libFuzzer writes new inputs into corpus dirs, so
never point it at tests/fixtures). Each run prints libFuzzer's ``Done N runs`` line.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["rtscope"]):
    from rtscope.analyzers import LiveAnalyzer
    from rtscope.capture.reader import CaptureReader
    from rtscope.capture.sources import open_source
    from rtscope.errors import CaptureError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: Inputs larger than this are not interesting here and slow every run down.
MAX_LEN = 64 * 1024


def reader(data: bytes) -> None:
    try:
        for record in CaptureReader(io.BytesIO(data), "fuzz"):
            assert isinstance(record, dict)
    except CaptureError:
        pass


def importers(data: bytes) -> None:
    try:
        source = open_source(io.BytesIO(data), "fuzz")
        for record in source:
            assert isinstance(record, dict) and isinstance(record.get("kind"), str)
    except CaptureError:
        pass


def analyzer(data: bytes) -> None:
    records = []
    try:
        for record in open_source(io.BytesIO(data), "fuzz"):
            records.append(record)
    except CaptureError:
        pass
    live = LiveAnalyzer(strict=True)
    for i, record in enumerate(records):
        live.feed(record)
        if i % 7 == 3:
            live.tick(float(i) * 3.0)
    for finding in live.finish():
        finding.to_dict()


TARGETS = {"reader": reader, "importers": importers, "analyzer": analyzer}


def seed_corpus(directory: Path) -> int:
    """Copy the small fixtures (captures, HAR, flows, logs, seeds) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for sub in ("captures", "har", "logs", "seeds"):
        for path in sorted((FIXTURES / sub).glob("*")):
            if path.is_file() and path.suffix != ".py" and path.stat().st_size <= MAX_LEN:
                shutil.copyfile(path, directory / f"{sub}-{path.name}")
                count += 1
    return count


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{','.join(TARGETS)}}} [--seed-corpus DIR] [libFuzzer args]")
    target = TARGETS[argv[1]]
    args = [argv[0], *argv[2:]]
    if "--seed-corpus" in args:
        i = args.index("--seed-corpus")
        corpus = Path(args[i + 1])
        seed_corpus(corpus)
        args[i : i + 2] = []
        args.append(str(corpus))
    if not any(a.startswith("-max_len=") for a in args):
        args.append(f"-max_len={MAX_LEN}")
    atheris.Setup(args, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
