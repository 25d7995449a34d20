"""The embedded default's Celery broker: kombu's SQLAlchemy transport on a SQLite file.

kombu's filesystem transport, used before, creates a message file and then
writes it, so a worker polling at that moment read an empty file and died
(JSONDecodeError: an "unrecoverable" error that stopped the worker). Here a
message is a row: it is written, taken and removed in transactions, so no
reader ever sees half of one. On top of kombu's SQLAlchemy transport this
module adds what a long-running site needs:

- WAL and a busy timeout: publishers (web, beat, the command line) and the
  worker queue up for the write lock instead of failing; readers never wait.
- A message is deleted when the worker acknowledges it. kombu keeps every
  delivered message forever, marked invisible; here the table holds only
  what is waiting or in hand. A message rejected with requeue, or left
  unacknowledged at shutdown, goes back to its queue.
- A message taken but never acknowledged (its worker was killed) becomes
  visible again after ``visibility_timeout`` seconds, as on Redis.
- A row that is not a valid message is logged, moved to the
  ``kombu_message_rejected`` table and skipped; the worker goes on.

Settings: ``CELERY_BROKER_URL=sqlite:///<path>`` with
``CELERY_BROKER_TRANSPORT="sakila_site.broker:Transport"`` (the default).

``Channel`` overrides private methods of kombu's SQLAlchemy channel and
relies on how kombu calls them: ``_open()`` makes the engine once per URL
with ``_engine_from_config()`` and returns ``(engine, Session)``;
``_get_or_create(queue)`` returns the queue's row; the virtual channel takes
one message with ``_get(queue)``, which raises ``Empty`` when there is none,
and puts back an unacknowledged message with ``_restore(message)``, which
publishes a copy through ``_put``; kombu's messages table has the columns
``id``, ``queue_id``, ``payload``, ``visible`` and ``timestamp``.
tests/sakila_site/test_broker_overrides.py fails when kombu is not the
version written for below, or one of these names is gone or takes other
parameters.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import warnings
from queue import Empty
from typing import Any

from kombu.transport import sqlalchemy as kombu_sqla
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

logger = logging.getLogger(__name__)

# kombu's Queue model declares its relationship lazy="noload", which SQLAlchemy
# 2.1 deprecates; the transport never loads it. kombu's to fix, not ours.
warnings.filterwarnings(
    "ignore", message="The ``noload`` loader strategy is deprecated", module="kombu"
)

# The version of each library whose private code this module overrides, as locked
# in requirements.txt (see tests/overrides.py).
OVERRIDES_WRITTEN_FOR = {"kombu": "5.7.0"}

DEFAULT_VISIBILITY_TIMEOUT = 3600  # seconds, as kombu's Redis transport; settings set 300
# How often a polling worker looks for messages whose worker died.
RESTORE_EVERY_SECONDS = 30
BUSY_TIMEOUT_SECONDS = 30

rejected_metadata = MetaData()
rejected_messages = Table(
    "kombu_message_rejected",
    rejected_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, nullable=False),  # its id in kombu_message
    Column("queue", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("rejected_at", DateTime, nullable=False),
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL keeps commits durable across a crash
    cursor.close()


def _decode(payload: str) -> dict:
    """The message a row holds, or ValueError saying why it is not one."""
    try:
        message = json.loads(payload)
    except ValueError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(message, dict):
        raise ValueError(f"not a message object: {type(message).__name__}")
    properties = message.get("properties")
    if not isinstance(properties, dict) or not properties.get("delivery_tag"):
        raise ValueError("no properties.delivery_tag")
    return message


class Channel(kombu_sqla.Channel):
    """kombu's SQLAlchemy channel with acknowledged deletes and bad rows set aside."""

    def __init__(self, connection: Any, **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        options = connection.client.transport_options
        self.visibility_timeout = options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT)
        self._rows: dict[str, int] = {}  # delivery tag -> kombu_message.id, while in hand
        self._queue_ids: dict[str, int] = {}
        self._restored_at = 0.0

    def _engine_from_config(self) -> Engine:
        # kombu passes every transport option to create_engine; ours are not for it.
        engine = create_engine(
            self.connection.client.hostname,
            connect_args={"timeout": BUSY_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        for attempt in range(5):  # several processes may create the tables at once
            try:
                kombu_sqla.metadata.create_all(engine)
                rejected_metadata.create_all(engine)
                break
            except OperationalError:
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return engine

    @property
    def engine(self) -> Engine:
        return self._open()[0]

    def _get_or_create(self, queue: str) -> Any:
        try:
            return super()._get_or_create(queue)
        except IntegrityError:  # another process created it first
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()

    def _queue_id(self, queue: str) -> int:
        # A queue's row is made once and kept: no need to look it up at every poll.
        if queue not in self._queue_ids:
            self._queue_ids[queue] = self._get_or_create(queue).id
        return self._queue_ids[queue]

    def _get(self, queue: str) -> dict:
        self._restore_expired()
        messages = self.message_cls.__table__
        waiting = (
            select(messages.c.id, messages.c.payload)
            .where(messages.c.queue_id == self._queue_id(queue), messages.c.visible.is_(True))
            .order_by(messages.c.timestamp, messages.c.id)
            .limit(1)
        )
        # A plain read first: an empty queue costs no write lock (WAL readers never wait).
        found = self.session.execute(waiting).first()
        self.session.commit()
        if found is None:
            raise Empty()
        while True:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, then the read
                row = connection.execute(waiting).first()
                if row is None:
                    connection.commit()
                    raise Empty()
                try:
                    message = _decode(row.payload)
                except ValueError as error:
                    self._set_aside(connection, queue, row, str(error))
                    connection.commit()
                    continue
                connection.execute(
                    update(messages)
                    .where(messages.c.id == row.id)
                    .values(visible=False, timestamp=datetime.datetime.now())
                )
                connection.commit()
            self._rows[message["properties"]["delivery_tag"]] = row.id
            return message

    def _set_aside(self, connection: Any, queue: str, row: Any, error: str) -> None:
        logger.error(
            "Broker message %s in queue %r is not a valid message (%s): moved to "
            "kombu_message_rejected; the worker goes on. Payload starts: %r",
            row.id, queue, error, row.payload[:200],
        )  # fmt: skip
        messages = self.message_cls.__table__
        connection.execute(
            insert(rejected_messages).values(
                message_id=row.id,
                queue=queue,
                payload=row.payload,
                error=error,
                rejected_at=datetime.datetime.now(),
            )
        )
        connection.execute(delete(messages).where(messages.c.id == row.id))

    def _restore_expired(self) -> None:
        """Make visible again the messages taken longer ago than the visibility timeout.

        Those are messages a worker took and never acknowledged or gave back: it
        was killed. A live worker acknowledges a task when it starts it."""
        now = time.monotonic()
        if now - self._restored_at < min(RESTORE_EVERY_SECONDS, self.visibility_timeout):
            return
        self._restored_at = now
        messages = self.message_cls.__table__
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=self.visibility_timeout)
        with self.engine.begin() as connection:
            restored = connection.execute(
                update(messages)
                .where(messages.c.visible.is_(False), messages.c.timestamp < cutoff)
                .values(visible=True)
            ).rowcount
        if restored:
            logger.warning(
                "Broker: %d message(s) taken over %d s ago and never acknowledged are "
                "back in their queue (their worker stopped).",
                restored, self.visibility_timeout,
            )  # fmt: skip

    def _forget(self, delivery_tag: str) -> None:
        """Delete a message in hand: it was acknowledged, dropped or put back as a copy."""
        row_id = self._rows.pop(delivery_tag, None)
        if row_id is None:
            return
        messages = self.message_cls.__table__
        # Acks come from the pool's threads: a connection of their own, not the session.
        with self.engine.begin() as connection:
            connection.execute(delete(messages).where(messages.c.id == row_id))

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue=requeue)  # a requeue puts a copy back
        self._forget(delivery_tag)

    def _restore(self, message: Any) -> None:
        super()._restore(message)  # puts a copy back in its queue
        self._forget(message.delivery_tag)


class Transport(kombu_sqla.Transport):
    """The transport Celery loads from ``CELERY_BROKER_TRANSPORT``."""

    Channel = Channel
    connection_errors = (OperationalError,)


def rejected_count(url: str) -> int:
    """How many messages were set aside as invalid (checks, docs/orchestration.md's how-to)."""
    engine = create_engine(url)
    try:
        rejected_metadata.create_all(engine)
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM kombu_message_rejected")).scalar()
    finally:
        engine.dispose()
