"""Clients for outside services, each behind an interface with a sandbox for development and tests.

They are built once per app, by `init_app`, from its settings: each real client holds a connection pool that a
client per request would leak. Services and jobs reach them through the functions below; views never do (the
layering contract in pyproject.toml)."""
from __future__ import annotations

from flask import Flask, current_app

from backend.domain.auth import WeChatApp
from backend.integrations.counted import CountedSms, counted_wechat_messages
from backend.integrations.sms import AliyunSms, SandboxSms, SmsSender
from backend.integrations.wechat_login import SandboxWeChatLogin, WeChatLoginClient, WeChatLoginProvider
from backend.integrations.wechat_messages import SandboxWeChatMessages, SubscribeMessageSender, WeChatMessages

SMS = "linli_sms"
WECHAT_LOGIN = "linli_wechat_login"
WECHAT_MESSAGES = "linli_wechat_messages"
# Where the sandbox stands in for open.weixin.qq.com's authorize page: one of our own pages (pages/auth.py).
SANDBOX_AUTHORIZE_ENDPOINT = "h5.sandbox_wechat_authorize"


def init_app(app: Flask) -> None:
    """Build every outside client the settings name (after the pages are registered: the WeChat sandbox signs
    in through one of them)."""
    app.extensions[SMS] = CountedSms(sms_for(app), app.extensions["linli_redis"])
    app.extensions[WECHAT_LOGIN] = wechat_logins_for(app)
    app.extensions[WECHAT_MESSAGES] = counted_wechat_messages(wechat_messages_for(app), app.extensions["linli_redis"])


def wechat_app_credentials(config, app: WeChatApp) -> tuple[str, str]:
    """The appid and secret of one of our WeChat apps ("" when this instance has none)."""
    if app is WeChatApp.MINIPROGRAM:
        return config["LINLI_WECHAT_MINIPROGRAM_APPID"], config["LINLI_WECHAT_MINIPROGRAM_SECRET"]
    return config["LINLI_WECHAT_APPID"], config["LINLI_WECHAT_SECRET"]


def sms_for(app: Flask) -> SmsSender:
    config = app.config
    if config["LINLI_SMS_PROVIDER"] != "aliyun":
        return SandboxSms(app.extensions["linli_redis"])
    return AliyunSms(
        config["LINLI_ALIYUN_ACCESS_KEY_ID"],
        config["LINLI_ALIYUN_ACCESS_KEY_SECRET"],
        config["LINLI_ALIYUN_SMS_SIGN_NAME"],
        config["LINLI_ALIYUN_SMS_TEMPLATE_CODE"],
        endpoint=config["LINLI_ALIYUN_SMS_ENDPOINT"],
        notice_template_code=config["LINLI_ALIYUN_SMS_NOTICE_TEMPLATE_CODE"],
    )


def wechat_logins_for(app: Flask) -> dict[WeChatApp, WeChatLoginProvider]:
    """Sign-in through each of our WeChat apps: each has its own appid and secret, and its own openids. An
    instance may well have no mini-program (production refuses to start without the official account)."""
    config = app.config
    if config["LINLI_WECHAT_PROVIDER"] != "wechat":
        sandbox = SandboxWeChatLogin(authorize_path=app.url_map.bind("localhost").build(SANDBOX_AUTHORIZE_ENDPOINT))
        return dict.fromkeys(WeChatApp, sandbox)
    logins: dict[WeChatApp, WeChatLoginProvider] = {}
    for which in WeChatApp:
        appid, secret = wechat_app_credentials(config, which)
        if appid:
            logins[which] = WeChatLoginClient(
                appid, secret, api_base=config["LINLI_WECHAT_API_BASE"], open_base=config["LINLI_WECHAT_OPEN_BASE"]
            )
    return logins


def wechat_messages_for(app: Flask) -> dict[WeChatApp, SubscribeMessageSender]:
    """The subscribe-message sender of each of our WeChat apps: an openid is only known to the app that gave it,
    so the mini-program's go through subscribe/send and the official account's through bizsend, each with its
    own app's access token."""
    config = app.config
    redis_client = app.extensions["linli_redis"]
    if config["LINLI_WECHAT_PROVIDER"] != "wechat":
        return {which: SandboxWeChatMessages(redis_client, kind=which.value) for which in WeChatApp}
    return {
        which: WeChatMessages(
            *wechat_app_credentials(config, which), redis_client, kind=which.value,
            api_base=config["LINLI_WECHAT_API_BASE"],
        )
        for which in WeChatApp
    }


def sms_sender() -> SmsSender:
    return current_app.extensions[SMS]


def wechat_login(app: WeChatApp) -> WeChatLoginProvider | None:
    """None when this instance has no such app to sign in through."""
    return current_app.extensions[WECHAT_LOGIN].get(app)


def wechat_messages(app: WeChatApp) -> SubscribeMessageSender:
    return current_app.extensions[WECHAT_MESSAGES][app]
