"""indexer.workers.OrderedWorkers: the build's analysis processes (real forked processes)."""
from __future__ import annotations

import os

import pytest

from indexer.workers import OrderedWorkers, WorkerFailed


def _tagged(item):
    # which process answered, to check that both workers took part
    return item * 3 + "!", os.getpid()


def _fail_on_x(item):
    if item == "x":
        raise ValueError("cannot analyse x")
    return item


def _die_on_x(item):
    if item == "x":
        os._exit(3)
    return item


def test_results_come_back_in_input_order_from_every_worker():
    items = [f"chunk{i}-" + "委託" * (i * 5000) for i in range(40)]   # up to ~1 MB a message
    with OrderedWorkers(_tagged, 2, in_flight=2) as workers:
        out = list(workers.map(items))
    assert [text for text, _ in out] == [item * 3 + "!" for item in items]
    assert len({pid for _, pid in out}) == 2 and os.getpid() not in {pid for _, pid in out}


def test_fewer_items_than_workers_and_no_items():
    with OrderedWorkers(_tagged, 3) as workers:
        assert [t for t, _ in workers.map(["a"])] == ["aaa!"]
        assert list(workers.map([])) == []


def test_an_exception_in_a_worker_is_raised_with_its_traceback():
    with OrderedWorkers(_fail_on_x, 2) as workers:
        results = workers.map(["a", "b", "x", "c"])
        assert [next(results), next(results)] == ["a", "b"]
        with pytest.raises(WorkerFailed, match="(?s)ValueError: cannot analyse x"):
            next(results)


def test_a_worker_that_dies_is_reported():
    with OrderedWorkers(_die_on_x, 2) as workers:
        with pytest.raises(WorkerFailed, match="exit code 3"):
            list(workers.map(["a", "x", "b", "c"]))


def test_close_ends_the_processes_even_mid_map():
    workers = OrderedWorkers(_tagged, 2)
    results = workers.map(["a"] * 20)
    next(results)
    workers.close()
    assert all(not p.is_alive() for p in workers._procs)
