"""The helpers the flows share live once, in integrations: the cursor window, the run status rule, and an
import graph without a circle between the runner and what it calls."""

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from integrations.cursors import cursor_advance, cursor_window_start
from integrations.flows import RunReport
from integrations.models import SyncRun
from integrations.runner import run_status
from tests.factories import ChannelFactory

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_starts_an_overlap_before_the_cursor(db):
    channel = ChannelFactory()
    assert cursor_window_start(channel=channel, flow="x", since=None, overlap=timedelta(minutes=5)) is None
    cursor_advance(channel=channel, flow="x", position=datetime(2026, 1, 1, 12, tzinfo=UTC))
    start = cursor_window_start(channel=channel, flow="x", since=None, overlap=timedelta(minutes=5))
    assert start == datetime(2026, 1, 1, 11, 55, tzinfo=UTC)


def test_a_given_since_wins_over_the_cursor(db):
    channel = ChannelFactory()
    cursor_advance(channel=channel, flow="x", position=datetime(2026, 1, 1, tzinfo=UTC))
    since = datetime(2025, 6, 1, tzinfo=UTC)
    assert cursor_window_start(channel=channel, flow="x", since=since, overlap=timedelta(hours=1)) == since


def test_run_status_is_failed_with_an_error_partial_with_a_failed_record_else_ok():
    report = RunReport(flow="x")
    assert run_status(report=report, error="") == SyncRun.Status.OK
    report.issue("k", "bad")
    assert run_status(report=report, error="") == SyncRun.Status.PARTIAL
    assert run_status(report=report, error="down") == SyncRun.Status.FAILED


def _imports(module: str) -> set[str]:
    """The integrations modules `module` imports, at the top or inside a function."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("integrations"):
            found.add(node.module)
    return found


def test_the_runner_services_health_and_tasks_import_each_other_without_a_circle():
    modules = ["integrations.runner", "integrations.services", "integrations.health", "integrations.tasks"]
    modules += ["integrations.queue", "integrations.selectors"]
    graph = {m: _imports(m) & set(modules) for m in modules}

    def reaches(start: str, target: str, seen: frozenset = frozenset()) -> bool:
        return any(n == target or (n not in seen and reaches(n, target, seen | {n})) for n in graph[start])

    assert [m for m in modules if reaches(m, m)] == []
