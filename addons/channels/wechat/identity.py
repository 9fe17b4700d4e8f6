"""Conversation ids for WeChat users that do not reveal the openid."""

from __future__ import annotations

import hashlib
import hmac

SENDER_PREFIX = "wx-"


def sender_id_for(openid: str, key: str) -> str:
    """A stable keyed hash (HMAC-SHA256) of the openid, used as Rasa's sender id.

    Changing ``key`` (the app secret) starts new conversations for everyone.
    """
    digest = hmac.new(key.encode("utf-8"), openid.encode("utf-8"), hashlib.sha256)
    return SENDER_PREFIX + digest.hexdigest()[:32]
