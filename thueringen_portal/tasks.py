import os
import socket

from celery import shared_task

from .models import WorkerHeartbeat


@shared_task(name="thueringen_portal.tasks.record_heartbeat")
def record_heartbeat(token: str) -> int:
    """Record that a worker process ran; idempotent per token. Returns the worker's pid."""
    WorkerHeartbeat.objects.get_or_create(
        token=token, defaults={"hostname": socket.gethostname(), "pid": os.getpid()}
    )
    return os.getpid()
