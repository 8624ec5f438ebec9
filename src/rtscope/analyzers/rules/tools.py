"""Rules about function calling: unanswered calls, outputs without a response, rejected outputs."""

from __future__ import annotations

from ...protocol.session import ClientRequest, Msg, SessionState
from ..findings import Severity
from ..registry import Rule
from ._util import item_kind


class UnansweredFunctionCall(Rule):
    """A ``function_call`` item never got a ``function_call_output`` for its ``call_id``.

    The model does not continue after a tool call on its own: the client must send
    ``conversation.item.create{type: "function_call_output", call_id, output}`` (and then
    ``response.create``). Without it the assistant goes silent after announcing the tool.

    Fix: answer every function call, also when the tool fails (send the error as the output).

    Example: ``response.function_call_arguments.done{call_id: "call_1"}`` and no output for
    ``call_1`` until the end.
    """

    name = "unanswered-function-call"
    severity = Severity.ERROR

    def on_finish(self, s: SessionState) -> None:
        for call in s.calls.values():
            if call.output is not None:
                continue
            self.report(
                s,
                call.seq,
                call.t,
                f"function call {call.name or '?'} ({call.call_id}) never got a "
                "function_call_output",
                "send conversation.item.create with a function_call_output for this call_id, "
                "then response.create",
                call_id=call.call_id,
                name=call.name,
                response_id=call.response_id,
            )


def _is_output(req: ClientRequest) -> bool:
    return req.type == "conversation.item.create" and item_kind(req.event) == "function_call_output"


class ToolOutputWithoutResponse(Rule):
    """A ``function_call_output`` was sent but no response followed it.

    The server does not answer tool outputs by itself: after the output the client must send
    ``response.create`` (or the user must speak again). Otherwise the turn stalls: "the API does
    not respond after a function call".

    Fix: send ``response.create`` after the last ``function_call_output`` of a turn.

    Example: ``conversation.item.create{function_call_output}`` → ``conversation.item.created``
    → (nothing).
    """

    name = "tool-output-without-response"
    severity = Severity.ERROR

    def on_finish(self, s: SessionState) -> None:
        outputs = [r for r in s.outputs if r.error is None]
        if not outputs:
            return
        last = outputs[-1]
        later_create = s.last_create_seq is not None and s.last_create_seq > last.seq
        later_created = any(
            r.created_seq is not None and r.created_seq > last.seq for r in s.response_order
        )
        later_speech = any(sp.start_seq > last.seq for sp in s.spans)
        if later_create or later_created or later_speech:
            return
        item = last.event.get("item")
        call_id = item.get("call_id") if isinstance(item, dict) else None
        self.report(
            s,
            last.seq,
            last.t,
            f"function_call_output for {call_id} was sent but no response.create followed",
            "send response.create after the function_call_output: the model does not "
            "continue on its own",
            call_id=call_id,
        )


class ToolOutputRejected(Rule):
    """An error was caused by a ``function_call_output`` (unknown ``call_id``, wrong shape).

    "Tool call ID 'call_…' not found in conversation" (``invalid_tool_call_id``), "Missing
    required parameter: 'item.call_id'": the output was not added, and the model waits forever.
    Causes: a call_id from another session or context, an output nested in ``content``, a
    ``role`` on the item, the output sent inside ``response.create.response.input``.

    Fix: send ``{"type":"function_call_output","call_id":<the call's call_id>,"output":"…"}`` as
    ``conversation.item.create.item``, in the session that made the call.

    Example: ``error`` ``invalid_tool_call_id`` after ``conversation.item.create`` of an output
    for ``call_x``.
    """

    name = "tool-output-rejected"
    severity = Severity.ERROR
    types = frozenset({"error"})

    def on_message(self, s: SessionState, m: Msg) -> None:
        err = m.error
        if err is None:
            return
        req = err.request
        if not (err.code == "invalid_tool_call_id" or (req is not None and _is_output(req))):
            return
        item = req.event.get("item") if req is not None else None
        call_id = item.get("call_id") if isinstance(item, dict) else None
        self.report(
            s,
            m.seq,
            m.t,
            f"the server rejected a function_call_output: {err.code or err.type}: {err.message}",
            "send the output with the call_id of a function call of this session, as "
            "{type: function_call_output, call_id, output}",
            request_seq=req.seq if req else None,
            call_id=call_id,
            known_call=(call_id in s.calls) if call_id else None,
            code=err.code,
            param=err.param,
        )
