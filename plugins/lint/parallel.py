"""The one place lint runs work in parallel: :func:`split_run`.

Work that can be cut into independent shards (per-rule checks over many rules) runs shard 0 in this process
and the other shards in forked child processes, which see the parent's memory as it was at the fork: nothing is
pickled on the way in and no module-level state is handed over. Each child sends its shard's result back through
a pipe. Where forking is unsafe or impossible (Windows and macOS' spawn, a process with threads, one core, little
work) everything runs here, in order, with the same result.
"""

from __future__ import annotations

import os
from typing import Callable, TypeVar

T = TypeVar("T")

#: most shards (processes) used, whatever the core count
MAX_SHARDS = 4


def shard_count(size: int, min_size: int) -> int:
    """How many shards ``size`` items are cut into: 1 (no fork) unless there is enough work and forking is safe."""
    import multiprocessing
    import threading

    cores = min(MAX_SHARDS, os.cpu_count() or 1)
    if size < min_size or cores < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:  # forking a process with threads can deadlock (a lock held by another thread)
        return 1
    return cores


def split_run(work: Callable[[int, int], list[T]], size: int, *, min_size: int) -> list[T]:
    """``work(0, n) + work(1, n) + ... + work(n - 1, n)``, the shards after the first in forked children.

    ``work(k, n)`` must compute shard ``k`` of ``n`` from what it closes over and return a picklable list. A child
    that fails (killed, an exception, a result that cannot be pickled) has its shard computed again here, so the
    result never depends on whether workers were used.
    """
    n = shard_count(size, min_size)
    if n == 1:
        return work(0, 1)
    import gc
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    gc.freeze()  # children must not touch (and so copy) every page by walking the objects for garbage collection
    children = []
    try:
        for k in range(1, n):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(work, k, n, send), daemon=True)
            proc.start()
            send.close()
            children.append((k, proc, recv))
        out = list(work(0, n))
        for k, proc, recv in children:
            try:
                ok, part = recv.recv()
            except (EOFError, OSError):
                ok, part = False, None
            recv.close()
            proc.join()
            out.extend(part if ok else work(k, n))
        return out
    finally:
        for _, proc, _recv in children:
            if proc.is_alive():
                proc.kill()
                proc.join()
        gc.unfreeze()


def _child(work, k: int, n: int, send) -> None:
    try:
        result = (True, work(k, n))
    except BaseException:  # noqa: BLE001 - reported as a failed shard; the parent computes it again
        result = (False, None)
    try:
        send.send(result)
    except Exception:  # noqa: BLE001 - e.g. an unpicklable finding: the parent computes the shard again
        send.send((False, None))
    send.close()
