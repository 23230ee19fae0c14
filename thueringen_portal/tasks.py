import os
import socket
from importlib import import_module

from celery import shared_task
from django.conf import settings

from .models import WorkerHeartbeat


@shared_task(name="thueringen_portal.tasks.record_heartbeat")
def record_heartbeat(token: str) -> int:
    """Record that a worker process ran; idempotent per token. Returns the worker's pid."""
    WorkerHeartbeat.objects.get_or_create(
        token=token, defaults={"hostname": socket.gethostname(), "pid": os.getpid()}
    )
    return os.getpid()


@shared_task(name="thueringen_portal.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    """Delete expired sessions (what `manage.py clearsessions` does); idempotent, for beat."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
