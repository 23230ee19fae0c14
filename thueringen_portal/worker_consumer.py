"""The Celery worker's consumer, made to survive a Redis restart (CELERY_WORKER_CONSUMER).

Celery 5.7.0 with kombu 5.7.0 exits with ``Unrecoverable error:
AttributeError("'NoneType' object has no attribute 'hostname'")`` when Redis
goes away while the worker has a late-acknowledged task running and a free
slot waiting in ``BRPOP`` (the normal state of a busy worker). On the
connection error the consumer first ``collect()``s the old connection, which
detaches its transport even when closing the default channel was cut short by
the dead socket, and then ``close()``s it again: the second close retries that
channel, which needs the detached transport's URL and raises AttributeError,
an error nobody expects there. Celery 5.6.3 had no second close.

Here the second close is made harmless; everything else (cancelling the
running late-ack tasks, reconnecting) stays Celery's own. The messages of
those tasks stay in Redis' unacked set and come back after the visibility
timeout, and the pipeline's sweeper re-enqueues their steps sooner.
``tests/submissions/test_broker_outage.py`` reproduces the crash; drop this
class once a Celery release no longer needs it (the test tells).
"""

from __future__ import annotations

import logging

from celery.worker.consumer import Consumer as CeleryConsumer

logger = logging.getLogger(__name__)


class Consumer(CeleryConsumer):
    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            close = connection.close

            def close_after_collect() -> None:
                try:
                    close()
                except AttributeError:
                    # The transport was detached by collect(): nothing is left to close.
                    logger.info("old broker connection was already released")

            # An instance attribute: Celery looks `close` up after this point.
            connection.close = close_after_collect
        super().on_connection_error_after_connected(exc)
