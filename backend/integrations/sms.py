"""Sending SMS one-time codes: an interface, and a sandbox that writes to the log and to Redis."""
from __future__ import annotations

import json
import logging
from typing import Protocol

import redis

log = logging.getLogger("linli.sms")

SANDBOX_OUTBOX_KEY = "linli:sandbox:sms"


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str) -> None: ...


class SandboxSms:
    """Nothing leaves the machine: the code is logged and kept (last 100) so demos and tests can read it."""

    def __init__(self, redis_client: redis.Redis):
        self.redis = redis_client

    def send_code(self, phone: str, code: str) -> None:
        log.warning("sandbox SMS to %s: 【邻里】验证码 %s，5分钟内有效。", phone, code)
        pipe = self.redis.pipeline()
        pipe.lpush(SANDBOX_OUTBOX_KEY, json.dumps({"phone": phone, "code": code}))
        pipe.ltrim(SANDBOX_OUTBOX_KEY, 0, 99)
        pipe.execute()


def last_sandbox_code(redis_client: redis.Redis, phone: str) -> str | None:
    for raw in redis_client.lrange(SANDBOX_OUTBOX_KEY, 0, 99):
        message = json.loads(raw)
        if message["phone"] == phone:
            return message["code"]
    return None
