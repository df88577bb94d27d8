"""Settings: safe defaults for development, and a hard stop in production when a secret is missing."""
from __future__ import annotations

import pytest

from backend.config import (
    ALIYUN_SMS_SETTINGS,
    PRODUCTION_SECRETS,
    WECHATPAY_SETTINGS,
    ConfigError,
    Settings,
    normalize_database_url,
)

PRODUCTION = {
    "LINLI_ENV": "production",
    "LINLI_SECRET_KEY": "s" * 40,
    "LINLI_JWT_SECRET_KEY": "j" * 40,
    "LINLI_DATABASE_URL": "postgresql://linli@db/linli",
    "LINLI_REDIS_URL": "redis://cache:6379/0",
    "LINLI_WECHAT_PROVIDER": "wechat",
    "LINLI_WECHAT_APPID": "wx0123456789abcdef",
    "LINLI_WECHAT_SECRET": "w" * 32,
    "LINLI_WECHAT_NOTICE_TEMPLATE_ID": "tmpl-notice-0001",
    "LINLI_SMS_PROVIDER": "aliyun",
    "LINLI_ALIYUN_ACCESS_KEY_ID": "LTAI5tProductionKey",
    "LINLI_ALIYUN_ACCESS_KEY_SECRET": "a" * 30,
    "LINLI_ALIYUN_SMS_SIGN_NAME": "邻里",
    "LINLI_ALIYUN_SMS_TEMPLATE_CODE": "SMS_465390001",
    "LINLI_WECHATPAY_MCHID": "1900009191",
    "LINLI_WECHATPAY_APIV3_KEY": "k" * 32,
    "LINLI_WECHATPAY_SERIAL_NO": "444F4864EA9B34415C7B0F4EF66A3F9FF55C3B6E",
    "LINLI_WECHATPAY_PRIVATE_KEY_PATH": "/etc/linli/wechatpay/apiclient_key.pem",
    "LINLI_WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0119000091912025010100000000001",
    "LINLI_WECHATPAY_PUBLIC_KEY_PATH": "/etc/linli/wechatpay/pub_key.pem",
}


@pytest.fixture
def environment(monkeypatch):
    for name in [*PRODUCTION, "LINLI_PUBLIC_URL", "LINLI_PORT", "LINLI_PROXY_COUNT", "LINLI_ALIYUN_SMS_ENDPOINT",
                 "LINLI_WECHATPAY_API_BASE"]:
        monkeypatch.delenv(name, raising=False)

    def set_env(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def test_development_starts_with_defaults(environment):
    settings = Settings.from_env()
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None  # the embedded Redis
    assert settings.public_url == "http://127.0.0.1:5000"
    assert settings.flask_config()["JWT_COOKIE_SECURE"] is False


def test_production_with_every_secret_starts_with_secure_cookies(environment):
    environment(PRODUCTION)
    config = Settings.from_env().flask_config()
    assert config["JWT_COOKIE_SECURE"] is True
    assert config["SECRET_KEY"] == "s" * 40
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://linli@db/linli"


@pytest.mark.parametrize("missing", PRODUCTION_SECRETS)
def test_production_refuses_to_start_without_a_secret(environment, missing):
    environment({name: value for name, value in PRODUCTION.items() if name != missing})
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env()


@pytest.mark.parametrize(
    ("name", "value"),
    [("LINLI_WECHAT_PROVIDER", "sandbox"), ("LINLI_SMS_PROVIDER", "sandbox"), ("LINLI_WECHAT_SECRET", ""),
     ("LINLI_WECHAT_NOTICE_TEMPLATE_ID", "")],
)
def test_production_refuses_sandboxes_and_missing_wechat_credentials(environment, name, value):
    environment(PRODUCTION | {name: value})
    with pytest.raises(ConfigError):
        Settings.from_env()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_name_the_psycopg_driver(url, expected):
    assert normalize_database_url(url) == expected


def test_a_mistyped_wechat_provider_is_refused_not_read_as_the_sandbox(environment):
    environment({"LINLI_WECHAT_PROVIDER": "weixin"})
    with pytest.raises(ConfigError, match="LINLI_WECHAT_PROVIDER"):
        Settings.from_env()


@pytest.mark.parametrize("env", ["development", "production"])
def test_unknown_sms_provider_is_a_config_error(environment, env):
    environment(PRODUCTION | {"LINLI_ENV": env, "LINLI_SMS_PROVIDER": "tencent"})

    with pytest.raises(ConfigError, match="LINLI_SMS_PROVIDER"):
        Settings.from_env()


@pytest.mark.parametrize("missing", ALIYUN_SMS_SETTINGS)
def test_production_aliyun_needs_every_key(environment, missing):
    environment({name: value for name, value in PRODUCTION.items() if name != missing})

    with pytest.raises(ConfigError, match=missing):
        Settings.from_env()


def test_production_aliyun_with_every_key_reaches_the_app_config(environment):
    environment(PRODUCTION)

    config = Settings.from_env().flask_config()

    assert config["LINLI_SMS_PROVIDER"] == "aliyun"
    assert config["LINLI_ALIYUN_ACCESS_KEY_ID"] == "LTAI5tProductionKey"
    assert config["LINLI_ALIYUN_SMS_SIGN_NAME"] == "邻里"
    assert config["LINLI_ALIYUN_SMS_ENDPOINT"] == "https://dysmsapi.aliyuncs.com"


@pytest.mark.parametrize("missing", WECHATPAY_SETTINGS)
def test_production_wechat_pay_needs_every_setting(environment, missing):
    environment({name: value for name, value in PRODUCTION.items() if name != missing})

    with pytest.raises(ConfigError, match=missing):
        Settings.from_env()


@pytest.mark.parametrize("apiv3_key", ["k" * 31, "k" * 33, "密" * 32])
def test_production_refuses_an_apiv3_key_that_is_not_32_ascii_characters(environment, apiv3_key):
    environment(PRODUCTION | {"LINLI_WECHATPAY_APIV3_KEY": apiv3_key})

    with pytest.raises(ConfigError, match="LINLI_WECHATPAY_APIV3_KEY"):
        Settings.from_env()


def test_wechat_pay_settings_reach_the_app_config(environment):
    environment(PRODUCTION)

    config = Settings.from_env().flask_config()

    assert config["LINLI_WECHATPAY_MCHID"] == "1900009191"
    assert config["LINLI_WECHATPAY_APIV3_KEY"] == "k" * 32
    assert config["LINLI_WECHATPAY_PUBLIC_KEY_ID"] == "PUB_KEY_ID_0119000091912025010100000000001"
    assert config["LINLI_WECHATPAY_PRIVATE_KEY_PATH"] == "/etc/linli/wechatpay/apiclient_key.pem"
    assert config["LINLI_WECHATPAY_API_BASE"] == "https://api.mch.weixin.qq.com"


def test_development_needs_no_wechat_pay_settings(environment):
    config = Settings.from_env().flask_config()

    assert config["LINLI_WECHAT_PROVIDER"] == "sandbox"
    assert config["LINLI_WECHATPAY_MCHID"] == ""
