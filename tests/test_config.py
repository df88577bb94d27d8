"""Settings: safe defaults for development (secrets of the instance's own), and a hard stop in production when
a secret is missing."""
from __future__ import annotations

import multiprocessing
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt as pyjwt
import pytest
from flask import Flask
from flask_jwt_extended import create_access_token, decode_token

from backend import create_app
from backend.config import (
    ALIYUN_SMS_SETTINGS,
    INSTANCE_SECRETS,
    MINIPROGRAM_SETTINGS,
    PRODUCTION_SECRETS,
    WECHATPAY_SETTINGS,
    ConfigError,
    Settings,
    instance_secret,
    normalize_database_url,
)
from backend.extensions import db

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


# ---- this instance's own secrets (make run) ---------------------------------------------------------

# The default every install shared before: anyone who read the code could sign tokens with it.
OLD_PUBLIC_JWT_SECRET = "linli-dev-secret-not-for-production-use-0123456789-jwt"


@pytest.fixture
def fresh_instance(app, environment, monkeypatch, tmp_path):
    """create_app as `make run` calls it (no secrets in the environment), with its instance/ in tmp_path."""
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path / "instance"))
    made = []

    def make(**config) -> Flask:
        other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'linli.db'}",
                            "LINLI_REDIS_URL": app.config["LINLI_REDIS_URL"], **config})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def test_make_run_makes_its_secrets_once_keeps_them_private_and_reuses_them(fresh_instance, tmp_path):
    first = fresh_instance()
    files = {name: tmp_path / "instance" / file_name for name, file_name in INSTANCE_SECRETS.items()}

    for name, path in files.items():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert first.config[name] == path.read_text() and len(path.read_text()) == 64  # 48 random bytes
    assert first.config["SECRET_KEY"] != first.config["JWT_SECRET_KEY"]
    assert "linli-dev-secret" not in first.config["SECRET_KEY"] + first.config["JWT_SECRET_KEY"]
    with first.app_context():
        token = create_access_token(identity="1")

    restarted = fresh_instance()

    assert {name: restarted.config[name] for name in files} == {name: first.config[name] for name in files}
    with restarted.app_context():
        assert decode_token(token)["sub"] == "1"  # sessions survive a restart


def test_each_instance_has_secrets_of_its_own(fresh_instance, monkeypatch, tmp_path):
    first = fresh_instance()
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path / "another"))

    second = fresh_instance()

    assert first.config["JWT_SECRET_KEY"] != second.config["JWT_SECRET_KEY"]
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


def test_secrets_given_to_the_app_are_used_and_none_are_made(fresh_instance, tmp_path):
    given = fresh_instance(SECRET_KEY="s" * 40, JWT_SECRET_KEY="j" * 40)

    assert (given.config["SECRET_KEY"], given.config["JWT_SECRET_KEY"]) == ("s" * 40, "j" * 40)
    assert not (tmp_path / "instance" / "jwt_secret_key").exists()


def test_an_empty_secret_file_is_a_config_error_not_an_empty_key(tmp_path):
    (tmp_path / "jwt_secret_key").write_text("\n")

    with pytest.raises(ConfigError, match="jwt_secret_key"):
        instance_secret(tmp_path / "jwt_secret_key")


def _race_for_secret(path: str, barrier, answers) -> None:
    barrier.wait(timeout=30)
    answers.put(instance_secret(Path(path)))


def test_processes_starting_together_agree_on_one_secret(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier, answers = context.Barrier(6), context.Queue()
    path = tmp_path / "instance" / "jwt_secret_key"
    processes = [context.Process(target=_race_for_secret, args=(str(path), barrier, answers)) for _ in range(6)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)

    secrets_seen = {answers.get(timeout=5) for _ in processes}
    assert secrets_seen == {path.read_text()}
    assert [leftover.name for leftover in path.parent.iterdir()] == ["jwt_secret_key"]


def test_a_token_signed_with_the_old_public_default_is_refused(app, client, make_user):
    user = make_user()
    now = datetime.now(UTC)
    forged = pyjwt.encode({"sub": str(user.id), "type": "access", "fresh": False, "jti": "forged", "iat": now,
                           "nbf": now, "exp": now + timedelta(minutes=30)}, OLD_PUBLIC_JWT_SECRET, "HS256")

    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.parametrize("given", [MINIPROGRAM_SETTINGS[:1], MINIPROGRAM_SETTINGS[:2], MINIPROGRAM_SETTINGS[1:]])
def test_production_refuses_an_incomplete_mini_program(environment, monkeypatch, given):
    environment(PRODUCTION)
    for name in MINIPROGRAM_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    environment(dict.fromkeys(given, "wx-mini-value"))

    with pytest.raises(ConfigError, match="mini-program"):
        Settings.from_env()


def test_production_takes_a_complete_mini_program_or_none(environment, monkeypatch):
    for name in MINIPROGRAM_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    environment(PRODUCTION)
    assert Settings.from_env().flask_config()["LINLI_WECHAT_MINIPROGRAM_APPID"] == ""

    environment({"LINLI_WECHAT_MINIPROGRAM_APPID": "wx0123456789mini0", "LINLI_WECHAT_MINIPROGRAM_SECRET": "m" * 32,
                 "LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID": "tmpl-mini-0001"})
    config = Settings.from_env().flask_config()

    assert (config["LINLI_WECHAT_MINIPROGRAM_APPID"], config["LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID"]) == (
        "wx0123456789mini0", "tmpl-mini-0001")
