"""Delivery channels: how a submission reaches its office, one module per channel.

Each channel module defines a ``DeliveryChannel`` and registers it
(``base.channel_register``); the pipeline looks channels up by the name
stored on the ``Delivery`` and never branches on it. A new channel is a new
module here (imported below, so that it registers) and its tests.
"""

from __future__ import annotations

from . import email, fitconnect, inbox, webhook
from .base import (
    DeliveryChannel,
    DeliveryError,
    DeliveryProgress,
    channel_get,
    channel_register,
    channel_unregister,
    channels_all,
    channels_for_office,
    channels_in_portal,
)

__all__ = [
    "DeliveryChannel",
    "DeliveryError",
    "DeliveryProgress",
    "channel_get",
    "channel_register",
    "channel_unregister",
    "channels_all",
    "channels_for_office",
    "channels_in_portal",
    "email",
    "fitconnect",
    "inbox",
    "webhook",
]
