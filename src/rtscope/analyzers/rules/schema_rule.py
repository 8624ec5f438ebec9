"""Rule ``invalid-client-event``: client events checked against the official schemas."""

from __future__ import annotations

from ...protocol.dialect import handshake_dialect
from ...protocol.session import Msg, SessionState
from ..findings import Severity
from ..registry import ALL_COUNTED, Rule
from ..schema import Problem, validate_client_event


def _dialect(s: SessionState, m: Msg) -> str | None:
    """The dialect to validate in: the handshake's (the server decides by it), else the
    event's own, else the one the client, then the server, used first."""
    by_handshake = handshake_dialect(s.open)
    if by_handshake is not None:
        return by_handshake
    if m.dialect is not None:
        return m.dialect
    for side in ("client", "server"):
        seen = [(seq, d) for (frm, d), seq in s.dialects.items() if frm == side]
        if seen:
            return min(seen)[1]
    return None


class InvalidClientEvent(Rule):
    """A client event fails its dialect's schema, has unknown fields, or a wrong content type.

    Client events are checked with the ``openai`` SDK's own types for the dialect in use (beta or
    GA, judged from the event, then the connection), with a real discriminator on ``type``, plus
    a list of fields the schema does not know (the server refuses or ignores them) and the role
    table of content types: user ``input_text``/``input_audio`` (GA also ``input_image``), system
    ``input_text``, assistant ``output_text``/``output_audio`` in GA (``text`` in beta). The
    finding names the JSON path and the allowed values. When the dialect cannot be told, the
    event is reported only if it fits neither.

    Fix: correct the named field; in GA put audio settings under ``session.audio``, send
    ``session.type``, and use the per-role content types.

    Example: ``{"type":"conversation.item.create","item":{"type":"message","role":"user",
    "content":[{"type":"text","input_text":"Hello"}]}}`` → ``$.item.content[0].type`` must be
    ``input_text`` or ``input_audio``; ``$.item.content[0].input_text`` is unknown.
    """

    name = "invalid-client-event"
    severity = Severity.ERROR
    #: the fast path takes only well-formed appends (the keys, ``event_id`` and ``audio`` types
    #: checked here) and server deltas, which this rule does not judge
    fast_events = ALL_COUNTED

    def on_message(self, s: SessionState, m: Msg) -> None:
        if m.frm != "client":
            return
        dialect = _dialect(s, m)
        if dialect is not None:
            problems = validate_client_event(m.event, dialect)
        else:
            both = {d: validate_client_event(m.event, d) for d in ("ga", "beta")}
            if not both["ga"] or not both["beta"]:
                return
            dialect = min(both, key=lambda d: len(both[d]))
            problems = both[dialect]
        if not problems:
            return
        hard = [p for p in problems if not p.unknown_field]
        first = (hard or problems)[0]
        if hard and m.request is not None:
            m.request.flagged_by.add(self.name)
        self.report(
            s,
            m.seq,
            m.t,
            f"{m.type} does not fit the {dialect.upper() if dialect == 'ga' else dialect} "
            f"schema: {_describe(first)}"
            + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            _hint(problems, dialect),
            severity=None if hard else Severity.WARNING,
            dialect=dialect,
            problems=[p.to_dict() for p in problems[:20]],
        )


#: beta session fields → where GA wants them (protocol notes §2.3)
GA_MOVES = {
    "modalities": "output_modalities",
    "voice": "audio.output.voice",
    "input_audio_format": "audio.input.format",
    "output_audio_format": "audio.output.format",
    "turn_detection": "audio.input.turn_detection",
    "input_audio_transcription": "audio.input.transcription",
    "input_audio_noise_reduction": "audio.input.noise_reduction",
    "max_response_output_tokens": "max_output_tokens",
    "speed": "audio.output.speed",
}


def _hint(problems: list[Problem], dialect: str) -> str:
    parts = []
    for p in problems[:3]:
        if p.unknown_field:
            field = p.path.rsplit(".", 1)[-1]
            moved = GA_MOVES.get(field) if dialect == "ga" and p.path.count(".") == 2 else None
            parts.append(f"move {p.path} to {moved}" if moved else f"remove {p.path}")
        elif p.allowed:
            parts.append(f"use {' or '.join(p.allowed)} at {p.path}")
        elif "missing" in p.message:
            extra = ' (e.g. "realtime")' if p.path == "$.session.type" else ""
            parts.append(f"add {p.path}{extra}")
        else:
            parts.append(f"fix {p.path} ({p.message})")
    return "; ".join(parts)


def _describe(p: Problem) -> str:
    return f"{p.path}: {p.message}"
