"""Kill tests: usage records accepted before SIGTERM are all in the database afterwards.

The queue is set never to flush on its own (60 s interval, 1000-record batches), so
every record is still in memory when the server gets SIGTERM.  Either the shutdown
drain writes them, or — when the database cannot take them (here: locked by the test)
— they are spilled to the data dir and replayed by the next start.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import httpx
from harness import Server, ServerFactory

QUIET = {"FREEWAY_USAGE_FLUSH_INTERVAL": "60", "FREEWAY_USAGE_BATCH_SIZE": "1000"}


def send_requests(server: Server, count: int) -> tuple[str, set[str]]:
    """``count`` chat requests (every third streamed) on a new project: its id and the
    request ids the gateway answered."""
    project = server.create_project(f"kill-{time.monotonic_ns()}")
    headers = {"Authorization": f"Bearer {project['api_key']}"}
    ids = set()
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
        for i in range(count):
            body = {
                "model": "openai/gpt-4o-mini",
                "messages": [{"role": "user", "content": f"request {i}"}],
                "stream": i % 3 == 0,
            }
            response = http.post("/v1/chat/completions", json=body)
            assert response.status_code == 200, response.text
            ids.add(response.headers["x-request-id"])
    return project["id"], ids


def logged_ids(data_dir: Path, project_id: str) -> list[str]:
    with sqlite3.connect(data_dir / "freeway.db") as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT request_id FROM usage_logs WHERE lower(hex(project_id)) = ?",
                (project_id.replace("-", ""),),
            )
        ]


def wait_for_ids(data_dir: Path, project_id: str, expected: set[str]) -> list[str]:
    deadline = time.monotonic() + 15
    while True:
        found = logged_ids(data_dir, project_id)
        if set(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_sigterm_drains_every_accepted_record_into_the_database(make_server: ServerFactory):
    server = make_server(**QUIET).start()
    data_dir = Path(server.env["FREEWAY_DATA_DIR"])
    project_id, ids = send_requests(server, 60)
    assert logged_ids(data_dir, project_id) == []  # all still queued in memory
    # uvicorn shuts down gracefully, then re-raises SIGTERM to report it.
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    found = logged_ids(data_dir, project_id)
    assert set(found) == ids
    assert len(found) == len(ids)
    # And a restart changes nothing: no spill was left to replay.
    make_server(**QUIET).start()
    time.sleep(1)
    assert sorted(logged_ids(data_dir, project_id)) == sorted(found)
    assert not list((data_dir / "usage-spill").glob("*.jsonl*"))


def test_records_the_database_refused_at_shutdown_are_spilled_and_replayed(
    make_server: ServerFactory,
):
    server = make_server(**QUIET, FREEWAY_USAGE_DRAIN_TIMEOUT="20").start()
    data_dir = Path(server.env["FREEWAY_DATA_DIR"])
    project_id, ids = send_requests(server, 45)
    # Hold the SQLite write lock: the drain's insert waits out busy_timeout and fails.
    lock = sqlite3.connect(data_dir / "freeway.db", isolation_level=None, timeout=1)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        assert server.stop(signal.SIGTERM, timeout=60) in (0, -signal.SIGTERM)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert logged_ids(data_dir, project_id) == []
    spilled = list((data_dir / "usage-spill").glob("*.jsonl"))
    assert spilled, server.log()
    # The next start replays the spill into the database and removes the file.
    make_server(**QUIET).start()
    found = wait_for_ids(data_dir, project_id, ids)
    assert set(found) == ids
    assert len(found) == len(ids)
    deadline = time.monotonic() + 5
    while list((data_dir / "usage-spill").glob("*.jsonl*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list((data_dir / "usage-spill").glob("*.jsonl*"))
