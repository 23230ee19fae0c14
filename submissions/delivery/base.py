"""The interface of a delivery channel and the registry the pipeline looks channels up in.

A channel is a class with a ``name`` (the value stored in ``Delivery.channel``),
``serves(office)`` (is the channel set up for this office?) and
``deliver(delivery, connection)`` (one attempt). It registers itself with
``@channel_register``; the pipeline never names a channel.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.mail.backends.base import BaseEmailBackend

from ..models import Delivery


class DeliveryError(Exception):
    """One attempt failed; it will be retried until the retry window is over."""

    def __init__(self, message: str, *, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class DeliveryProgress(Exception):
    """The attempt made progress on the other side that must be committed before it goes on.

    A channel that creates a record remotely (FIT-Connect's submission) sets
    its id on the delivery and raises this, naming the fields: the pipeline
    saves them, commits, and continues with the next attempt at once, so a
    worker that dies later continues that record instead of making another.
    """

    def __init__(self, message: str, *, fields: list[str]):
        super().__init__(message)
        self.fields = fields


class DeliveryChannel:
    """One way a submission reaches its office. Subclass, set the class attributes, register.

    ``deliver`` makes one attempt and returns a status code (HTTP status, or
    0 where there is none), or raises ``DeliveryError``; retries and
    bookkeeping are the pipeline's job. It runs while the pipeline holds the
    delivery row locked in a transaction, so a duplicate task skips it.
    """

    name: ClassVar[str]
    # Where the office's deliveries are created and listed: lower first.
    position: ClassVar[int] = 100
    # True for a channel whose "sending" is a write to our own database (the
    # back-office inbox): its success commits together with its record on the
    # submission, and the case counts as forwarded to the office once one
    # such channel delivered it (the citizen's receipt waits for that).
    in_portal: ClassVar[bool] = False

    def serves(self, *, office) -> bool:
        """Whether this office is set up to receive over this channel."""
        raise NotImplementedError

    def deliver(self, *, delivery: Delivery, connection: BaseEmailBackend | None = None) -> int:
        """One attempt; ``connection`` is the SMTP connection the pipeline keeps open."""
        raise NotImplementedError


_channels: dict[str, DeliveryChannel] = {}


def channel_register(channel_class: type[DeliveryChannel]) -> type[DeliveryChannel]:
    """Class decorator: make the channel known to the pipeline under its ``name``."""
    if channel_class.name in _channels:
        raise ValueError(f"a delivery channel {channel_class.name!r} is already registered")
    _channels[channel_class.name] = channel_class()
    return channel_class


def channel_unregister(name: str) -> None:
    """Forget a channel (for a test that registered its own)."""
    _channels.pop(name, None)


def channel_get(name: str) -> DeliveryChannel:
    """The registered channel ``name``; KeyError names an unknown channel."""
    try:
        return _channels[name]
    except KeyError:
        raise KeyError(f"no delivery channel {name!r} is registered") from None


def channels_all() -> list[DeliveryChannel]:
    """Every registered channel, in ``position`` order."""
    return sorted(_channels.values(), key=lambda channel: (channel.position, channel.name))


def channels_for_office(*, office) -> list[str]:
    """The names of the channels set up for ``office``, in ``position`` order."""
    return [channel.name for channel in channels_all() if channel.serves(office=office)]


def channels_in_portal() -> list[str]:
    """The names of the channels whose delivery is a write to our own database."""
    return [channel.name for channel in channels_all() if channel.in_portal]
