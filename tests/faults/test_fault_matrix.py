"""The fault matrix (matrix.py): every side effect of every registered flow x the faults the sandbox offers,
then the fault cleared and the flow run again — nothing lost, nothing done twice, the run history true.

The normal suite runs the faults that reach the most code paths (FAST_FAULTS); the `faults` marker runs every
fault the sandbox offers, once on PostgreSQL in CI. Slow and timed-out answers are cheap: the test sets short
client timeouts and one retry through the product's settings.
"""

import os

import pytest

from integrations import flows
from integrations.connectors import connector_class
from integrations.sandbox.registry import SANDBOX_CLASSES, Sandboxes
from integrations.sandbox.seed import build_world
from tests.faults import matrix

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def small_world_sandboxes():
    """The four sandboxes on a smaller world than the suite's: every flow still has work to do."""
    sandboxes = Sandboxes.start(world=build_world(styles=3, orders=4))
    yield sandboxes
    sandboxes.stop()


@pytest.fixture
def sandboxes(small_world_sandboxes, settings):
    settings.HTTP_RETRY_BACKOFF = 0.01
    settings.HTTP_RETRY_ATTEMPTS = 2
    settings.HTTP_READ_TIMEOUT = matrix.READ_TIMEOUT
    small_world_sandboxes.reset()
    return small_world_sandboxes


def test_every_flow_each_connector_runs_has_its_side_effects_declared():
    """A flow added to a registry (or a connector gaining a capability) must say here which calls to fault."""
    runs = {
        (kind, name)
        for kind in SANDBOX_CLASSES
        for name in flows.supported(connector_class(kind), connector_class(kind).role)
    }
    assert runs - set(matrix.EFFECTS) == set()
    assert set(matrix.EFFECTS) - runs == set()


def _run_matrix(sandboxes, names, capsys) -> None:
    faults = tuple(f for f in matrix.FAULTS if f.name in names)
    result = matrix.matrix_walk(sandboxes, faults)
    with capsys.disabled():
        print("\n" + result.table())
        for problem in result.problems:
            print("  ✗ " + problem)
    assert result.problems == []


def test_fault_matrix_fast(sandboxes, capsys):
    if os.environ.get("FAULT_MATRIX") == "full":
        pytest.skip("the whole fault matrix runs in this session (FAULT_MATRIX=full): its fast part would repeat it")
    _run_matrix(sandboxes, matrix.FAST_FAULTS, capsys)


@pytest.mark.faults
def test_fault_matrix_every_fault(sandboxes, capsys):
    _run_matrix(sandboxes, [f.name for f in matrix.FAULTS], capsys)
