"""The Dask task runner and the lazy client."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from jijtutorial import parallel


def _square(shared, task):
    return shared * task * task


def test_sync_run_keeps_the_order_and_reports_each_result():
    seen = []
    out = parallel.run_tasks(
        _square, [3, 1, 2], shared=2, client="sync", progress=False, on_result=lambda k, r: seen.append((k, r))
    )
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


@pytest.mark.parametrize("n", [-1, "two", 0, 1.5])  # 0 used to mean "all cores", silently
def test_bad_worker_count_is_named(n):
    with pytest.raises(ValueError, match="n_workers must be a positive number"):
        parallel.dask_client(n_workers=n, lazy=True)


@pytest.mark.parametrize("address", ["127.0.0.1:1", "tcp://127.0.0.1:1"])
def test_a_refused_scheduler_fails_at_once_with_a_clear_message(address):
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match=rf"no Dask scheduler answers at {address} .*dask scheduler"):
        parallel.dask_client(address)
    assert time.perf_counter() - t0 < 5  # distributed alone retries for 30 s


def test_a_scheduler_address_without_sense_is_named():
    with pytest.raises(ValueError, match="is not a scheduler address"):
        parallel.check_scheduler("tcp://host:port")


#: Ctrl-C arrives 0.3 s into the shutdown of the local cluster, right after the last task.
_INTERRUPTED_SHUTDOWN = textwrap.dedent("""
    import signal, sys
    from distributed import Client
    from jijtutorial import parallel

    close = Client.close

    def interrupted_close(self, *args, **kwargs):
        if self.status == "running":  # the shutdown itself, not a later no-op call
            # Ctrl-C arrives once the shutdown has begun, whatever the machine's speed (a timer raced the close:
            # on a fast machine the close was over before the timer fired).
            signal.raise_signal(signal.SIGINT)
        return close(self, *args, **kwargs)

    def square(shared, task):
        return task * task

    if __name__ == "__main__":
        Client.close = interrupted_close
        try:
            parallel.run_tasks(square, [1, 2, 3], n_workers=1, progress=False,
                               on_result=lambda k, r: print(k, r, flush=True))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
""")


@pytest.mark.slow
def test_ctrl_c_during_cluster_shutdown_exits_promptly_without_tracebacks(tmp_path):
    script = tmp_path / "shutdown.py"
    script.write_text(_INTERRUPTED_SHUTDOWN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, env={**os.environ, "PYTHONWARNINGS": "ignore"}
    )
    after_start = time.perf_counter() - t0
    assert proc.returncode == 130, proc.stderr
    assert sorted(proc.stdout.split("\n")[:3]) == ["0 1", "1 4", "2 9"]  # every task done: the shutdown was interrupted
    assert proc.stderr.strip() == "interrupted", proc.stderr  # one line, no CancelledError/TimeoutError tracebacks
    assert after_start < 40  # starting the cluster takes ~10 s here; the interrupted close used to hang ~70 s
