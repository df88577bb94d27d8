"""The SMS and WeChat message senders as the app hands them out: the configured client, each message it sends
counted (backend/observability/metrics.py) by its kind and outcome."""
from __future__ import annotations

from collections.abc import Callable, Mapping

import redis

from backend.domain.auth import WeChatApp
from backend.integrations.sms import SmsSender, SmsSendFailed
from backend.integrations.wechat_messages import RecipientDeclined, SubscribeMessageSender, WeChatMessageError
from backend.observability.metrics import count_sent_message


class CountedSms:
    def __init__(self, sender: SmsSender, redis_client: redis.Redis):
        self.sender = sender
        self.redis = redis_client

    def send_code(self, phone: str, code: str) -> None:
        self._counted("code", lambda: self.sender.send_code(phone, code))

    def send_notice(self, phone: str, title: str) -> None:
        self._counted("notice", lambda: self.sender.send_notice(phone, title))

    def _counted(self, kind: str, send: Callable[[], None]) -> None:
        try:
            send()
        except SmsSendFailed:
            count_sent_message(self.redis, "sms", kind, "failed")
            raise
        count_sent_message(self.redis, "sms", kind, "sent")


class CountedWeChatMessages:
    def __init__(self, sender: SubscribeMessageSender, app: WeChatApp, redis_client: redis.Redis):
        self.sender = sender
        self.app = app
        self.redis = redis_client

    def send(self, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None) -> int | None:
        try:
            msgid = self.sender.send(openid, template_id, data, page=page)
        except WeChatMessageError as error:
            # Declined is the person's choice, retry is WeChat's weather; failed is worth a look (a bug of ours).
            outcome = "declined" if isinstance(error, RecipientDeclined) else "retry" if error.transient else "failed"
            count_sent_message(self.redis, "wechat", self.app.value, outcome)
            raise
        count_sent_message(self.redis, "wechat", self.app.value, "sent")
        return msgid


def counted_wechat_messages(
    senders: dict[WeChatApp, SubscribeMessageSender], redis_client: redis.Redis
) -> dict[WeChatApp, SubscribeMessageSender]:
    return {app: CountedWeChatMessages(sender, app, redis_client) for app, sender in senders.items()}
