"""The table-driven hook dispatch behaves like mitmproxy's own ``AddonManager`` walk."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from mitmproxy import exceptions, hooks, options
    from mitmproxy.master import Master
    from mitmproxy.test import tflow

from rtscope.proxy.dispatch import TableAddonManager, use_table_dispatch


class Calls:
    """An addon that notes each hook it gets."""

    def __init__(self, name: str, seen: list[str], fail: bool = False) -> None:
        self.name = name
        self.seen = seen
        self.fail = fail

    def websocket_message(self, flow: Any) -> None:
        self.seen.append(f"{self.name}:message")
        if self.fail:
            raise RuntimeError(f"{self.name} broke")


class AsyncCalls(Calls):
    async def websocket_message(self, flow: Any) -> None:  # type: ignore[override]
        self.seen.append(f"{self.name}:async message")


class Halts(Calls):
    def websocket_message(self, flow: Any) -> None:
        self.seen.append(f"{self.name}:halt")
        raise exceptions.AddonHalt


class Updates(Calls):
    def update(self, flows: Any) -> None:
        self.seen.append(f"{self.name}:update")


class Parent:
    """An addon with children (mitmproxy walks ``addons`` attributes)."""

    def __init__(self, seen: list[str]) -> None:
        self.addons = [Calls("child", seen)]

    def websocket_message(self, flow: Any) -> None:
        self.addons[0].seen.append("parent:message")


async def _master(*addons: Any, table: bool) -> Any:
    master = Master(options.Options(), with_termlog=False)
    if table:
        use_table_dispatch(master)
    master.addons.add(*addons)
    return master


async def _deliver(master: Any) -> None:
    flow = tflow.twebsocketflow()
    await master.addons.handle_lifecycle(hooks.all_hooks["websocket_message"](flow))


def _chain(seen: list[str]) -> list[Any]:
    return [Calls("a", seen), AsyncCalls("b", seen), Parent(seen), Updates("u", seen)]


async def test_switching_keeps_the_manager_object_and_changes_only_its_class() -> None:
    master = Master(options.Options(), with_termlog=False)
    manager = master.addons
    assert use_table_dispatch(master)
    assert master.addons is manager
    assert isinstance(manager, TableAddonManager)


async def test_a_manager_that_is_not_mitmproxys_own_is_left_alone() -> None:
    master = Master(options.Options(), with_termlog=False)

    class Custom(type(master.addons)):  # type: ignore[misc]
        pass

    master.addons.__class__ = Custom
    assert not use_table_dispatch(master)
    assert type(master.addons) is Custom


async def test_hooks_run_in_the_same_order_as_mitmproxys_walk() -> None:
    results = []
    for table in (False, True):
        seen: list[str] = []
        await _deliver(await _master(*_chain(seen), table=table))
        results.append(seen)
    assert results[0] == results[1]
    assert results[1] == [
        "a:message",
        "b:async message",
        "parent:message",
        "child:message",
        "u:message",
        "u:update",
    ]


async def test_no_update_dispatch_when_no_addon_implements_it() -> None:
    seen: list[str] = []
    master = await _master(Calls("a", seen), table=True)
    await _deliver(master)
    assert seen == ["a:message"]
    assert master.addons._hooks("update") == ()


async def test_an_addon_error_is_logged_and_the_next_addon_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str] = []
    master = await _master(Calls("a", seen, fail=True), Calls("b", seen), table=True)
    with caplog.at_level(logging.ERROR):
        await _deliver(master)
    assert seen == ["a:message", "b:message"]
    assert "Addon error: a broke" in caplog.text


async def test_addon_halt_stops_the_chain() -> None:
    seen: list[str] = []
    master = await _master(Halts("h", seen), Calls("b", seen), table=True)
    await _deliver(master)
    assert seen == ["h:halt"]


async def test_adding_and_removing_addons_rebuilds_the_table() -> None:
    seen: list[str] = []
    first = Calls("a", seen)
    master = await _master(first, table=True)
    await _deliver(master)
    late = Calls("late", seen)
    master.addons.add(late)
    await _deliver(master)
    master.addons.remove(first)
    await _deliver(master)
    assert seen == ["a:message", "a:message", "late:message", "late:message"]


async def test_record_proxy_uses_the_table(start_proxy: Any) -> None:
    proxy, _ = await start_proxy()
    assert isinstance(proxy.master.addons, TableAddonManager)
    recorder_hook = proxy.master.addons._hooks("websocket_message")
    assert recorder_hook == (proxy.recorder.websocket_message,)
