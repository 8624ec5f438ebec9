# mitmproxy's addon manager is untyped
# mypy: disable-error-code="no-untyped-call"
"""Hook dispatch for ``rtscope record``'s embedded mitmproxy: a table instead of a walk.

mitmproxy's ``AddonManager.handle_lifecycle`` runs for every hook of every flow, a WebSocket
message included. For each addon of the chain it enters a ``safecall`` context manager, creates an
``invoke_addon`` coroutine, walks the addon's children with a generator, looks the hook up with
``getattr`` and rebuilds the hook's arguments with ``dataclasses.fields``; then it does the same
again for the ``update`` hook, which no addon of ``rtscope record`` implements. With five addons
that is ~25–30 µs per message on the bench machine, as much as recording the message.

:class:`TableAddonManager` keeps, per hook name, the list of functions that implement it (built on
first use, rebuilt whenever an addon is added or removed) and calls just those: a WebSocket message
costs one call of :meth:`~rtscope.proxy.addon.Recorder.websocket_message` and no ``update``
dispatch. The behaviour is mitmproxy's: same order, sync and async hooks, an addon's exception is
logged as ``Addon error: …`` and the next addon still runs, ``AddonHalt`` stops the chain,
``OptionsError`` propagates. What it gives up: an addon that grows or loses a hook method after
it was added (mitmproxy's script loader does; ``rtscope record`` does not load scripts) is not
seen until the chain changes. ``mitmdump -s`` keeps mitmproxy's own manager.
"""

from __future__ import annotations

import inspect
import logging
import types
from collections.abc import Callable
from typing import Any

from mitmproxy import addonmanager, exceptions, flow, hooks

__all__ = ["TableAddonManager", "use_table_dispatch"]

logger = logging.getLogger("mitmproxy.addonmanager")

_Funcs = tuple[Callable[..., Any], ...]


class TableAddonManager(addonmanager.AddonManager):
    """``AddonManager`` whose hook dispatch looks functions up in a per-hook table."""

    _table: dict[str, _Funcs]

    def _hooks(self, name: str) -> _Funcs:
        table = self.__dict__.get("_table")
        if table is None:
            table = self._table = {}
        funcs = table.get(name)
        if funcs is None:
            found = []
            for addon in addonmanager.traverse(self.chain):
                func = getattr(addon, name, None)
                if func is None or isinstance(func, types.ModuleType):
                    continue  # mitmproxy skips modules named like hooks (``from … import log``)
                if not callable(func):
                    raise exceptions.AddonManagerError(
                        f"Addon handler {name} ({addon}) not callable"
                    )
                found.append(func)
            funcs = table[name] = tuple(found)
        return funcs

    def _changed(self) -> None:
        self.__dict__.pop("_table", None)

    # every way the chain changes drops the table
    def register(self, addon: Any) -> Any:
        self._changed()
        return super().register(addon)

    def add(self, *addons: Any) -> None:
        self._changed()
        super().add(*addons)
        self._changed()

    def remove(self, addon: Any) -> None:
        self._changed()
        super().remove(addon)
        self._changed()

    def clear(self) -> None:
        self._changed()
        super().clear()
        self._changed()

    async def trigger_event(self, event: hooks.Hook) -> None:
        funcs = self._hooks(event.name)
        if not funcs:
            return
        args = event.args()
        for func in funcs:
            try:
                res = func(*args)
                if res is not None and inspect.isawaitable(res):
                    await res
            except exceptions.AddonHalt:
                return
            except exceptions.OptionsError:
                raise
            except Exception as exc:
                logger.error(f"Addon error: {exc}", exc_info=True)

    async def handle_lifecycle(self, event: hooks.Hook) -> None:
        await self.trigger_event(event)
        if self._hooks("update"):
            message = event.args()[0]
            if isinstance(message, flow.Flow):
                await self.trigger_event(hooks.UpdateHook([message]))


def use_table_dispatch(master: Any) -> bool:
    """Switch ``master``'s addon manager to :class:`TableAddonManager` (before adding addons).

    The manager object stays the same (mitmproxy's ``ctx`` and the command manager hold it);
    only its class changes, which adds no state. A manager that is not mitmproxy's own, or a
    mitmproxy whose manager lacks what the table relies on, is left as it is (returns ``False``).
    """
    manager = master.addons
    if type(manager) is not addonmanager.AddonManager or not _compatible(manager):
        return isinstance(manager, TableAddonManager)
    manager.__class__ = TableAddonManager  # its table is built on the first hook
    return True


def _compatible(manager: Any) -> bool:
    return callable(getattr(addonmanager, "traverse", None)) and all(
        callable(getattr(manager, name, None))
        for name in ("handle_lifecycle", "trigger_event", "register", "add", "remove", "clear")
    )
