"""The protocol tests read the same fixtures as the analyzer tests."""

from tests.analyzers.conftest import capture, seed

__all__ = ["capture", "seed"]
