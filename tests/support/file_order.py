"""Longest test files first, so the parallel run does not end on a tail of slow files.

`make test` runs the files in parallel (pytest-xdist, `--dist loadfile`): each
file goes whole to the next idle process, in collection order. Alphabetical
order put the slow files (real workers killed and restarted, browser journeys,
gunicorn started and stopped) wherever their names fell, often at the end,
where one process worked through them alone while the others had finished.
Handing out the longest files first (the classic longest-processing-time rule)
lets the many short files fill the gaps at the end.

A file's cost is what it took in a recorded run (`tests/file_durations.json`,
written by `pytest --record-file-durations`), else an estimate from its tests'
markers. Only the order changes; every test still runs, and the tests of one
file keep their own order. `--no-loadscope-reorder` (in the Makefile) keeps
xdist from re-sorting the files by their number of tests.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

DURATIONS_FILE = Path(__file__).resolve().parent.parent / "file_durations.json"

# Seconds per test when a file has no recorded duration (a new file): what a
# test of each kind took on average in a recorded run on the 2-core machine.
ESTIMATE_SECONDS = {"worker": 25.0, "browser": 8.0}
ESTIMATE_OTHER = 0.5


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-file-durations",
        action="store_true",
        help=f"write each test file's total duration to {DURATIONS_FILE.name} after the run",
    )


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _estimate(item: pytest.Item) -> float:
    for marker, seconds in ESTIMATE_SECONDS.items():
        if item.get_closest_marker(marker):
            return seconds
    return ESTIMATE_OTHER


def _recorded() -> dict[str, float]:
    try:
        data = json.loads(DURATIONS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    recorded = _recorded()
    estimated: dict[str, float] = defaultdict(float)
    first_seen: dict[str, int] = {}
    for index, item in enumerate(items):
        path = _file_of(item.nodeid)
        estimated[path] += _estimate(item)
        first_seen.setdefault(path, index)

    def cost(path: str) -> float:
        return recorded.get(path, estimated[path])

    # Stable: equal costs keep collection order, so every xdist process
    # (which must collect the same order) computes the same list.
    order = sorted(first_seen, key=lambda path: (-cost(path), first_seen[path]))
    rank = {path: position for position, path in enumerate(order)}
    items.sort(key=lambda item: rank[_file_of(item.nodeid)])


class _DurationRecorder:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[_file_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # xdist's processes report to the controller, which writes
        data = {path: round(seconds, 1) for path, seconds in sorted(self.seconds.items())}
        DURATIONS_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--record-file-durations"):
        config.pluginmanager.register(_DurationRecorder(), "file-durations-recorder")
