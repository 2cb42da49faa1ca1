"""The Dask task runner and the lazy client."""

from __future__ import annotations

import pytest

from jijtutorial import parallel


def _square(shared, task):
    return shared * task * task


def test_sync_run_keeps_the_order_and_reports_each_result():
    seen = []
    out = parallel.run_tasks(_square, [3, 1, 2], shared=2, client="sync", progress=False,
                             on_result=lambda k, r: seen.append((k, r)))
    assert out == [18, 2, 8] and seen == [(0, 18), (1, 2), (2, 8)]


def test_lazy_client_starts_nothing_when_there_is_nothing_to_run():
    client = parallel.dask_client(n_workers=1, lazy=True)
    assert parallel.run_tasks(_square, [], shared=1, client=client, progress=False) == []
    assert not client.started and "not started" in repr(client)
    client.close()  # closing an unstarted client is fine


@pytest.mark.slow
def test_lazy_client_starts_on_first_task_and_is_reused():
    client = parallel.dask_client(n_workers=1, lazy=True)
    try:
        assert parallel.run_tasks(_square, [1, 2], shared=1, client=client, progress=False) == [1, 4]
        first = client.get()
        assert client.started
        assert parallel.run_tasks(_square, [3], shared=1, client=client, progress=False) == [9]
        assert client.get() is first
    finally:
        client.close()
    assert not client.started


@pytest.mark.parametrize("n", [-1, "two"])
def test_bad_worker_count_is_named(n):
    with pytest.raises(ValueError, match="n_workers must be a positive number"):
        parallel.dask_client(n_workers=n, lazy=True)
