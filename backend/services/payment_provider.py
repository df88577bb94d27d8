"""The app's WeChat Pay client: the real one when LINLI_WECHAT_PROVIDER is "wechat", else the local sandbox."""
from __future__ import annotations

from pathlib import Path

from flask import current_app

from backend.config import ConfigError
from backend.integrations.wechat_pay import SIGNATURE_HEADERS, SandboxWeChatPay, WeChatPay

SANDBOX_KEY_DIR = "wechatpay-sandbox"
API_PREFIX = "/api/v1"
# Where the notification arrives, under the API's prefix (the payments blueprint routes it).
NOTIFY_ROUTE = "/payments/wechat/notify"
NOTIFY_PATH = API_PREFIX + NOTIFY_ROUTE
# The headers that sign a notification: the API documents them.
NOTIFICATION_HEADERS = SIGNATURE_HEADERS
# The sandbox runs where no app id is configured (make run); the page shows it, WeChat never sees it.
SANDBOX_APPID = "wx00000000sandbox"


def wechat_pay() -> WeChatPay:
    """Built once per app; reading the key files happens here, so a wrong path fails the first payment loudly."""
    pay = current_app.extensions.get("linli_wechat_pay")
    if pay is None:
        config = current_app.config
        if config["LINLI_WECHAT_PROVIDER"] == "wechat":
            try:
                pay = WeChatPay.from_files(
                    appid=config["LINLI_WECHAT_APPID"],
                    mchid=config["LINLI_WECHATPAY_MCHID"],
                    apiv3_key=config["LINLI_WECHATPAY_APIV3_KEY"],
                    merchant_serial_no=config["LINLI_WECHATPAY_SERIAL_NO"],
                    private_key_path=Path(config["LINLI_WECHATPAY_PRIVATE_KEY_PATH"]),
                    public_key_id=config["LINLI_WECHATPAY_PUBLIC_KEY_ID"],
                    public_key_path=Path(config["LINLI_WECHATPAY_PUBLIC_KEY_PATH"]),
                    api_base=config["LINLI_WECHATPAY_API_BASE"],
                )
            except (OSError, ValueError) as exc:
                raise ConfigError(f"WeChat Pay settings are not usable: {exc}") from exc
        else:
            pay = SandboxWeChatPay(Path(current_app.instance_path) / SANDBOX_KEY_DIR,
                                   appid=config["LINLI_WECHAT_APPID"] or SANDBOX_APPID)
        current_app.extensions["linli_wechat_pay"] = pay
    return pay


def notify_url() -> str:
    """Where WeChat Pay posts payment notifications: the public URL, as it reaches the API from outside."""
    return current_app.config["LINLI_PUBLIC_URL"] + NOTIFY_PATH
