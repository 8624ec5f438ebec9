"""What a rule reports: an immutable :class:`Finding`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding", "Severity"]


class Severity(enum.IntEnum):
    """Ordered: ``Severity.ERROR > Severity.WARNING > Severity.INFO``."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule saw, with its evidence and the fix.

    ``seq`` is the message that shows the problem (``None`` when it is the connection as a whole);
    ``details`` holds the evidence (related seqs, gaps in ms, config values, error code/message).
    """

    rule: str
    severity: Severity
    conn: str
    seq: int | None
    t: float | None
    message: str
    hint: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.label,
            "conn": self.conn,
            "seq": self.seq,
            "t": self.t,
            "message": self.message,
            "details": self.details,
            "hint": self.hint,
        }

    def to_record(self) -> dict[str, Any]:
        """The ``{"kind": "finding", ...}`` capture record of a live finding (readers skip it)."""
        return {"kind": "finding", **self.to_dict()}

    def one_line(self) -> str:
        """How the recorder prints a live finding: severity, rule, connection, message."""
        where = self.conn if self.seq is None else f"{self.conn}#{self.seq}"
        return f"{self.severity.label.upper()} {self.rule} [{where}] {self.message}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            rule=str(data["rule"]),
            severity=Severity.parse(str(data["severity"])),
            conn=str(data.get("conn", "")),
            seq=data.get("seq"),
            t=data.get("t"),
            message=str(data.get("message", "")),
            hint=str(data.get("hint", "")),
            details=dict(data.get("details") or {}),
        )
