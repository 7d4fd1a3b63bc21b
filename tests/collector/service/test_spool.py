"""The write-ahead spool: framing, group-committed fsync, torn tails, locking."""

from __future__ import annotations

import os
import threading
from concurrent.futures import wait
from pathlib import Path

import pytest
from callscope.collector.service.errors import SpoolError
from callscope.collector.service.spool import SEGMENT_MAGIC, Spool, iter_frames, segment_path


def open_spool(directory: Path) -> Spool:
    spool = Spool(directory)
    spool.open()
    return spool


def test_frames_read_back_in_order_after_the_futures_complete(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    payloads = [os.urandom(n) for n in (0, 1, 100, 70_000)]
    results = [spool.append(payload) for payload in payloads]
    assert [position.index for position, _ in results] == [0, 1, 2, 3]
    assert {position.segment for position, _ in results} == {1}
    for _, durable in results:
        assert durable.result(timeout=10) is None
    assert list(iter_frames(segment_path(tmp_path, 1))) == payloads
    assert spool.sealed_frames() == {}
    assert spool.roll() == 1
    assert spool.sealed_frames() == {1: 4}
    position, durable = spool.append(b"next")
    assert position.segment == 2
    durable.result(timeout=10)
    spool.delete(1)
    assert not segment_path(tmp_path, 1).exists()
    spool.close()


def test_concurrent_appends_share_fsyncs_and_all_complete(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    futures = []
    lock = threading.Lock()

    def append_many(worker: int) -> None:
        for i in range(200):
            _, durable = spool.append(f"{worker}:{i}".encode())
            with lock:
                futures.append(durable)

    threads = [threading.Thread(target=append_many, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done, not_done = wait(futures, timeout=30)
    assert not not_done
    assert all(future.exception() is None for future in done)
    frames = list(iter_frames(segment_path(tmp_path, 1)))
    assert sorted(frames) == sorted(f"{w}:{i}".encode() for w in range(4) for i in range(200))
    spool.close()


def test_a_torn_tail_is_skipped_and_reported(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    for payload in (b"one", b"two", b"three"):
        spool.append(payload)[1].result(timeout=10)
    spool.close()
    path = segment_path(tmp_path, 1)
    whole = path.read_bytes()
    torn: list[int] = []
    for cut in (1, 5, 9, 10):  # inside the last frame's header, inside its payload
        path.write_bytes(whole[:-cut])
        torn.clear()
        assert list(iter_frames(path, on_torn=torn.append)) == [b"one", b"two"]
        assert torn == [len(whole[:-cut]) - (len(whole) - len(b"three") - 8)]
    corrupt = bytearray(whole)
    corrupt[-1] ^= 0xFF  # a flipped bit in the last payload fails its CRC
    path.write_bytes(bytes(corrupt))
    assert list(iter_frames(path)) == [b"one", b"two"]
    path.write_bytes(b"")  # created just before a crash
    assert list(iter_frames(path)) == []
    path.write_bytes(b"garbage!")
    torn.clear()
    assert list(iter_frames(path, on_torn=torn.append)) == []
    assert torn == [8]


def test_leftovers_of_a_previous_run_are_found_and_numbering_continues(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append(b"a")[1].result(timeout=10)
    spool.roll()
    spool.append(b"b")[1].result(timeout=10)
    spool.close()

    again = Spool(tmp_path)
    assert again.open() == [segment_path(tmp_path, 1), segment_path(tmp_path, 2)]
    assert [list(iter_frames(path)) for path in again.leftover] == [[b"a"], [b"b"]]
    position, durable = again.append(b"c")
    durable.result(timeout=10)
    assert position.segment == 3
    assert again.segment_count == 3
    for path in list(again.leftover):
        again.delete_leftover(path)
    assert again.segment_count == 1
    again.close()


def test_a_second_collector_cannot_share_a_spool(tmp_path: Path) -> None:
    first = open_spool(tmp_path)
    with pytest.raises(
        SpoolError, match=rf"in use by another collector \(pid {os.getpid()}\).*its own --spool"
    ):
        Spool(tmp_path).open()
    first.close()
    open_spool(tmp_path).close()  # free again once the first one closed


def test_appending_to_a_closed_spool_fails(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.close()
    with pytest.raises(SpoolError, match="closed"):
        spool.append(b"late")


def test_segment_files_start_with_the_format_marker(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    spool.append(b"x")[1].result(timeout=10)
    spool.close()
    assert segment_path(tmp_path, 1).read_bytes().startswith(SEGMENT_MAGIC)


def test_a_caller_giving_up_on_a_future_does_not_break_the_syncer(tmp_path: Path) -> None:
    spool = open_spool(tmp_path)
    _, abandoned = spool.append(b"client hung up")
    assert not abandoned.cancel()  # what asyncio.wrap_future does when the request task is cancelled
    for i in range(3):
        spool.append(f"later {i}".encode())[1].result(timeout=10)
    assert abandoned.result(timeout=10) is None
    spool.close()
