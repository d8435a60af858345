"""Identifiers: format, time order, and random bits that never repeat across threads or a fork."""

from __future__ import annotations

import os
import re
import threading
import time

from domain.platform import ids


def test_new_id_is_prefix_time_and_random_hex() -> None:
    before = time.time_ns() // 1_000_000
    made = ids.new_id("ord")
    after = time.time_ns() // 1_000_000
    match = re.fullmatch(r"ord_([0-9a-f]{12})([0-9a-f]{20})", made)
    assert match is not None
    assert before <= int(match.group(1), 16) <= after


def test_ids_sort_by_creation_time() -> None:
    first = ids.new_id("ord")
    time.sleep(0.002)
    assert ids.new_id("ord") > first


def test_random_hex_lengths_across_the_draw_boundary() -> None:
    sizes = [1, 10, 16, 4095, 4096, 5000, 0]
    drawn = [ids.random_hex(size) for size in sizes * 3]
    assert [len(value) for value in drawn] == [2 * size for size in sizes * 3]
    assert all(re.fullmatch(r"[0-9a-f]*", value) for value in drawn)


def test_random_hex_never_repeats_within_or_across_threads() -> None:
    seen: list[str] = []

    def draw() -> None:
        seen.extend(ids.random_hex(10) for _ in range(5_000))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 20_000
    assert len(set(seen)) == 20_000


def test_a_forked_child_does_not_repeat_its_parents_bytes() -> None:
    ids.random_hex(1)  # the parent's buffer holds bytes a child would otherwise copy
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        os.write(write_end, ids.random_hex(16).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    child = os.read(read_end, 64).decode()
    os.close(read_end)
    assert len(child) == 32
    assert child != ids.random_hex(16)
