"""Protocol-aware rules over capture records, their registry, and the runner.

Public API: :func:`analyze` (batch), :class:`LiveAnalyzer` (incremental, used by the recorder),
:mod:`~rtscope.analyzers.registry` (``all_rules()``, ``get_rule(name)``), :class:`Finding`.
"""

from __future__ import annotations

from . import registry
from .engine import LiveAnalyzer, analyze, select_rules
from .findings import Finding, Severity

__all__ = ["Finding", "LiveAnalyzer", "Severity", "analyze", "registry", "select_rules"]
