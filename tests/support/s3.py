"""A real S3 API server on 127.0.0.1 (moto in server mode), with a private bucket.

Processes we start (gunicorn, Celery workers) reach it over HTTP through
django-storages exactly as they would reach the data centre's object store;
tests look into the bucket with boto3, never through the portal's code.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.support.redis_server import free_port

REGION = "eu-central-1"
# moto accepts any credentials; these only have to be present and consistent.
ACCESS_KEY = "portal-test-access-key"
SECRET_KEY = "portal-test-secret-key"


@dataclass
class S3Server:
    host: str = "127.0.0.1"
    port: int = 0

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> S3Server:
        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def create_bucket(self) -> str:
        """A new private bucket, so tests never see each other's objects."""
        name = f"portal-private-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return name

    def keys(self, bucket: str) -> set[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def env(self, bucket: str) -> dict[str, str]:
        """The portal's environment variables for this bucket (see .env.example)."""
        return {
            "PORTAL_STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def storage_setting(self, bucket: str) -> dict:
        """STORAGES["default"] as settings.py builds it for PORTAL_STORAGE_BACKEND=s3."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server().start()
    yield server
    server.stop()
