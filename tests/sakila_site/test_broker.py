"""The embedded broker (sakila_site/broker.py) with real publishers and a real worker."""

import os
import sqlite3
import time

import pytest
from kombu import Connection

from sakila_site import broker
from sakila_site.celery import app
from tests.sakila_site.broker_stress import PROBE_LOG_ENV, PROBE_TASK, start_worker, stress

pytestmark = pytest.mark.skipif(
    not app.conf.broker_url.startswith("sqlite://"), reason="the embedded broker only"
)


def broker_rows(url: str, table: str = "kombu_message") -> list[tuple]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


def worker_env(celery_broker: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **celery_broker, "DJANGO_SETTINGS_MODULE": "sakila_site.settings"}


@pytest.mark.slow
def test_four_publishers_and_a_worker_run_every_task_exactly_once(celery_broker, tmp_path):
    # 1,200 tasks: enough for the publishers to race each other and the worker
    # (the 5,000-task soak, rounds and rates are bench/broker.py's).
    result = stress(
        worker_env(celery_broker), tmp_path, publishers=3, per_publisher=300, in_process=300
    )

    assert result.sent == 1200
    assert (result.lost, result.duplicated) == (0, 0), result.worker_log
    assert result.worker_exit_code is None, result.worker_log  # it never exited
    assert broker_rows(app.conf.broker_url) == []  # acknowledged messages are deleted


@pytest.mark.slow
def test_a_malformed_message_is_set_aside_and_the_worker_goes_on(celery_broker, tmp_path):
    url = app.conf.broker_url
    app.send_task(PROBE_TASK, args=("before", 0))
    # What the filesystem transport's readers saw: an empty message, half a message.
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        queue_id = db.execute("SELECT id FROM kombu_queue WHERE name = 'celery'").fetchone()[0]
        for payload in ["", '{"body": "eyJ', "[]"]:
            db.execute(
                "INSERT INTO kombu_message (visible, payload, version, queue_id) VALUES (1, ?, 1, ?)",
                (payload, queue_id),
            )
    app.send_task(PROBE_TASK, args=("after", 0))
    probes = tmp_path / "probes.log"
    worker = start_worker(
        {**worker_env(celery_broker), PROBE_LOG_ENV: str(probes)}, tmp_path / "w.log"
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            probes.exists() and len(probes.read_text().splitlines()) == 2
        ):
            time.sleep(0.2)
        assert worker.poll() is None, (tmp_path / "w.log").read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    # Both ran (the worker's threads may finish them in either order).
    assert sorted(probes.read_text().splitlines()) == ["after:0", "before:0"]
    log = (tmp_path / "w.log").read_text()
    assert log.count("is not a valid message") == 3
    assert "moved to kombu_message_rejected; the worker goes on" in log
    rejected = broker_rows(url, "kombu_message_rejected")
    assert [(row[3], row[4]) for row in rejected] == [
        ("", "not JSON: Expecting value: line 1 column 1 (char 0)"),
        ('{"body": "eyJ', "not JSON: Unterminated string starting at: line 1 column 10 (char 9)"),
        ("[]", "not a message object: list"),
    ]
    assert broker.rejected_count(url) == 3
    assert broker_rows(url) == []


def consume_one(url: str, **options) -> tuple[Connection, object]:
    connection = Connection(url, transport=broker.Transport, transport_options=options)
    message = connection.SimpleQueue("probe").get(timeout=5)
    return connection, message


def test_a_message_taken_and_never_acknowledged_comes_back_after_the_visibility_timeout(
    celery_broker,
):
    url = app.conf.broker_url
    with Connection(url, transport=broker.Transport) as connection:
        connection.SimpleQueue("probe").put({"n": 1})
    taken_by_a_worker_that_died, message = consume_one(url)
    assert message.payload == {"n": 1}
    assert broker_rows(url)[0][1] == 0  # invisible while in hand

    options = {"visibility_timeout": 60}
    with Connection(url, transport=broker.Transport, transport_options=options) as other:
        queue = other.SimpleQueue("probe")
        with pytest.raises(queue.Empty):
            queue.get(timeout=1)  # not yet: its worker may still be on it
    time.sleep(1.1)
    again, message = consume_one(url, visibility_timeout=1)
    assert message.payload == {"n": 1}
    message.ack()
    assert broker_rows(url) == []
    again.release()
    taken_by_a_worker_that_died.release()


def test_a_rejected_message_goes_back_once_and_an_acknowledged_one_is_deleted(celery_broker):
    url = app.conf.broker_url
    with Connection(url, transport=broker.Transport) as connection:
        queue = connection.SimpleQueue("probe")
        queue.put({"n": 1})
        queue.get(timeout=5).requeue()
        assert len(broker_rows(url)) == 1  # the copy put back, not the original too
        message = queue.get(timeout=5)
        assert message.payload == {"n": 1}
        message.ack()
        assert broker_rows(url) == []
        queue.close()
