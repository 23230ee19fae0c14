"""Operational records of the platform itself (no domain data)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """Written by a Celery worker to prove that the worker -> database path works."""

    token = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid} {self.token}"
