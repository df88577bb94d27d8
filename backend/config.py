"""Settings read from LINLI_* environment variables, with safe defaults for development."""
from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# In production each of these must come from the environment; the app refuses to start otherwise.
PRODUCTION_SECRETS = ("LINLI_SECRET_KEY", "LINLI_JWT_SECRET_KEY", "LINLI_DATABASE_URL", "LINLI_REDIS_URL")
# Elsewhere (make run) a secret not given is this instance's own, made once under instance/: a default
# written in the code would let anyone who reads it mint tokens (an admin's too) for every default install.
INSTANCE_SECRETS = {"SECRET_KEY": "secret_key", "JWT_SECRET_KEY": "jwt_secret_key"}
SMS_PROVIDERS = ("sandbox", "aliyun")
WECHAT_PROVIDERS = ("sandbox", "wechat")
# What Alibaba Cloud SMS needs besides its endpoint; production refuses `aliyun` without any of them.
ALIYUN_SMS_SETTINGS = (
    "LINLI_ALIYUN_ACCESS_KEY_ID",
    "LINLI_ALIYUN_ACCESS_KEY_SECRET",
    "LINLI_ALIYUN_SMS_SIGN_NAME",
    "LINLI_ALIYUN_SMS_TEMPLATE_CODE",
)
# What WeChat Pay v3 (public-key mode) needs besides the app id; production refuses `wechat` without any of them.
WECHATPAY_SETTINGS = (
    "LINLI_WECHATPAY_MCHID",
    "LINLI_WECHATPAY_APIV3_KEY",
    "LINLI_WECHATPAY_SERIAL_NO",
    "LINLI_WECHATPAY_PRIVATE_KEY_PATH",
    "LINLI_WECHATPAY_PUBLIC_KEY_ID",
    "LINLI_WECHATPAY_PUBLIC_KEY_PATH",
)
WECHATPAY_APIV3_KEY_LENGTH = 32
# The mini-program is optional; when production names one, it needs all of these.
MINIPROGRAM_SETTINGS = (
    "LINLI_WECHAT_MINIPROGRAM_APPID",
    "LINLI_WECHAT_MINIPROGRAM_SECRET",
    "LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID",
)

# argon2-cffi profiles (argon2.profiles) for password hashes: production's is the library's default, RFC 9106's
# low-memory choice; an app made with TESTING takes the cheapest, as the suite signs in thousands of times.
PASSWORD_COST = "RFC_9106_LOW_MEMORY"
TEST_PASSWORD_COST = "CHEAPEST"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable app."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def instance_secret(path: Path) -> str:
    """This instance's secret kept in `path`: made once (48 random bytes, URL-safe, mode 0600), then read back.
    Processes starting together (make run starts three) agree on one: the file is written in full under
    another name and hard-linked into place, which fails when it exists, so nobody can read it half written
    and a loser reads the winner's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
                file.flush()
                os.fsync(file.fileno())
            with suppress(FileExistsError):
                os.link(staging, path)
        finally:
            os.unlink(staging)
    secret = path.read_text().strip()
    if not secret:
        raise ConfigError(f"{path} is empty: delete it and a new secret is made at the next start")
    return secret


def normalize_database_url(url: str) -> str:
    """SQLAlchemy needs the psycopg 3 driver named; operators write plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass
class Settings:
    env: str = "development"
    # None: the instance's own (INSTANCE_SECRETS), filled in by create_app.
    secret_key: str | None = None
    jwt_secret_key: str | None = None
    database_url: str = ""
    redis_url: str | None = None
    instance_path: Path = field(default_factory=lambda: PROJECT_ROOT / "instance")
    public_url: str = "http://127.0.0.1:5000"
    port: int = 5000
    wechat_provider: str = "sandbox"
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_open_base: str = "https://open.weixin.qq.com"
    wechat_miniprogram_appid: str = ""
    wechat_miniprogram_secret: str = ""
    sms_provider: str = "sandbox"
    aliyun_access_key_id: str = ""
    aliyun_access_key_secret: str = ""
    aliyun_sms_sign_name: str = ""
    aliyun_sms_template_code: str = ""
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com"
    wechatpay_mchid: str = ""
    wechatpay_apiv3_key: str = ""
    wechatpay_serial_no: str = ""
    wechatpay_private_key_path: str = ""
    wechatpay_public_key_id: str = ""
    wechatpay_public_key_path: str = ""
    wechatpay_api_base: str = "https://api.mch.weixin.qq.com"
    access_minutes: int = 30
    refresh_days: int = 30
    ratelimit_enabled: bool = True
    proxy_count: int = 0
    # Work-order photos on local disk; empty = instance/photos.
    photo_dir: str = ""
    # PostgreSQL cancels a statement running longer (0: never; for a one-off long migration).
    db_statement_timeout_ms: int = 15_000

    @classmethod
    def from_env(cls) -> Settings:
        env = _env("LINLI_ENV", "development")
        sms_provider = _env("LINLI_SMS_PROVIDER", "sandbox")
        wechat_provider = _env("LINLI_WECHAT_PROVIDER", "sandbox")
        if wechat_provider not in WECHAT_PROVIDERS:
            # A typo must not fall back to the sandbox, which signs anyone in.
            raise ConfigError(
                f"LINLI_WECHAT_PROVIDER is {wechat_provider!r}, not one of {', '.join(WECHAT_PROVIDERS)}"
            )
        if sms_provider not in SMS_PROVIDERS:
            raise ConfigError(f"LINLI_SMS_PROVIDER is {sms_provider!r}, not one of {', '.join(SMS_PROVIDERS)}")
        if env == "production":
            missing = [name for name in PRODUCTION_SECRETS if not _env(name)]
            if missing:
                raise ConfigError("production needs " + ", ".join(missing))
            if _env("LINLI_WECHAT_PROVIDER", "sandbox") == "sandbox":
                raise ConfigError("production cannot use the sandbox WeChat provider")
            if sms_provider == "sandbox":
                raise ConfigError("production cannot use the sandbox SMS provider")
            missing = [name for name in ALIYUN_SMS_SETTINGS if not _env(name)]
            if missing:
                raise ConfigError("production with the aliyun SMS provider needs " + ", ".join(missing))
            missing = [name for name in MINIPROGRAM_SETTINGS if not _env(name)]
            if missing and len(missing) < len(MINIPROGRAM_SETTINGS):
                raise ConfigError("production with a mini-program needs " + ", ".join(missing))
        instance = Path(_env("LINLI_INSTANCE_PATH", str(PROJECT_ROOT / "instance")))
        settings = cls(
            env=env,
            secret_key=_env("LINLI_SECRET_KEY"),
            jwt_secret_key=_env("LINLI_JWT_SECRET_KEY"),
            database_url=_env("LINLI_DATABASE_URL", f"sqlite:///{instance / 'linli.db'}"),
            redis_url=_env("LINLI_REDIS_URL"),
            instance_path=instance,
            port=int(_env("LINLI_PORT", "5000")),
            wechat_provider=_env("LINLI_WECHAT_PROVIDER", "sandbox"),
            wechat_appid=_env("LINLI_WECHAT_APPID", ""),
            wechat_secret=_env("LINLI_WECHAT_SECRET", ""),
            wechat_api_base=_env("LINLI_WECHAT_API_BASE", "https://api.weixin.qq.com"),
            wechat_open_base=_env("LINLI_WECHAT_OPEN_BASE", "https://open.weixin.qq.com"),
            wechat_miniprogram_appid=_env("LINLI_WECHAT_MINIPROGRAM_APPID", ""),
            wechat_miniprogram_secret=_env("LINLI_WECHAT_MINIPROGRAM_SECRET", ""),
            sms_provider=sms_provider,
            aliyun_access_key_id=_env("LINLI_ALIYUN_ACCESS_KEY_ID", ""),
            aliyun_access_key_secret=_env("LINLI_ALIYUN_ACCESS_KEY_SECRET", ""),
            aliyun_sms_sign_name=_env("LINLI_ALIYUN_SMS_SIGN_NAME", ""),
            aliyun_sms_template_code=_env("LINLI_ALIYUN_SMS_TEMPLATE_CODE", ""),
            aliyun_sms_endpoint=_env("LINLI_ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com"),
            wechatpay_mchid=_env("LINLI_WECHATPAY_MCHID", ""),
            wechatpay_apiv3_key=_env("LINLI_WECHATPAY_APIV3_KEY", ""),
            wechatpay_serial_no=_env("LINLI_WECHATPAY_SERIAL_NO", ""),
            wechatpay_private_key_path=_env("LINLI_WECHATPAY_PRIVATE_KEY_PATH", ""),
            wechatpay_public_key_id=_env("LINLI_WECHATPAY_PUBLIC_KEY_ID", ""),
            wechatpay_public_key_path=_env("LINLI_WECHATPAY_PUBLIC_KEY_PATH", ""),
            wechatpay_api_base=_env("LINLI_WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com"),
            proxy_count=int(_env("LINLI_PROXY_COUNT", "0")),
            photo_dir=_env("LINLI_PHOTO_DIR", ""),
            db_statement_timeout_ms=int(_env("LINLI_DB_STATEMENT_TIMEOUT_MS", "15000")),
        )
        settings.public_url = _env("LINLI_PUBLIC_URL", f"http://127.0.0.1:{settings.port}")
        if env == "production" and settings.wechat_provider == "wechat" and not (
            settings.wechat_appid and settings.wechat_secret and _env("LINLI_WECHAT_NOTICE_TEMPLATE_ID")
        ):
            raise ConfigError(
                "production needs LINLI_WECHAT_APPID, LINLI_WECHAT_SECRET and LINLI_WECHAT_NOTICE_TEMPLATE_ID"
            )
        if env == "production" and settings.wechat_provider == "wechat":
            missing = [name for name in WECHATPAY_SETTINGS if not _env(name)]
            if missing:
                raise ConfigError("production with the wechat provider needs " + ", ".join(missing))
            # AES-256-GCM takes the key's 32 bytes as they are: any other length fails every notification.
            apiv3_key = settings.wechatpay_apiv3_key
            if len(apiv3_key) != WECHATPAY_APIV3_KEY_LENGTH or not apiv3_key.isascii():
                raise ConfigError(f"LINLI_WECHATPAY_APIV3_KEY must be {WECHATPAY_APIV3_KEY_LENGTH} ASCII characters")
        return settings

    def flask_config(self) -> dict:
        secure = self.env == "production"
        return {
            "ENV_NAME": self.env,
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": normalize_database_url(self.database_url),
            "LINLI_REDIS_URL": self.redis_url,
            "LINLI_PUBLIC_URL": self.public_url.rstrip("/"),
            "LINLI_WECHAT_PROVIDER": self.wechat_provider,
            "LINLI_WECHAT_APPID": self.wechat_appid,
            "LINLI_WECHAT_SECRET": self.wechat_secret,
            "LINLI_WECHAT_API_BASE": self.wechat_api_base,
            "LINLI_WECHAT_OPEN_BASE": self.wechat_open_base,
            "LINLI_WECHAT_NOTICE_TEMPLATE_ID": _env("LINLI_WECHAT_NOTICE_TEMPLATE_ID", ""),
            "LINLI_WECHAT_MINIPROGRAM_APPID": self.wechat_miniprogram_appid,
            "LINLI_WECHAT_MINIPROGRAM_SECRET": self.wechat_miniprogram_secret,
            "LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID": _env("LINLI_WECHAT_MINIPROGRAM_NOTICE_TEMPLATE_ID", ""),
            # The mini-program page a notice card opens; it gets the notice's H5 path as `link`.
            "LINLI_WECHAT_MINIPROGRAM_NOTICE_PAGE": _env("LINLI_WECHAT_MINIPROGRAM_NOTICE_PAGE", "pages/index/index"),
            "LINLI_ALIYUN_SMS_NOTICE_TEMPLATE_CODE": _env("LINLI_ALIYUN_SMS_NOTICE_TEMPLATE_CODE", ""),
            "LINLI_SMS_PROVIDER": self.sms_provider,
            "LINLI_ALIYUN_ACCESS_KEY_ID": self.aliyun_access_key_id,
            "LINLI_ALIYUN_ACCESS_KEY_SECRET": self.aliyun_access_key_secret,
            "LINLI_ALIYUN_SMS_SIGN_NAME": self.aliyun_sms_sign_name,
            "LINLI_ALIYUN_SMS_TEMPLATE_CODE": self.aliyun_sms_template_code,
            "LINLI_ALIYUN_SMS_ENDPOINT": self.aliyun_sms_endpoint,
            "LINLI_WECHATPAY_MCHID": self.wechatpay_mchid,
            "LINLI_WECHATPAY_APIV3_KEY": self.wechatpay_apiv3_key,
            "LINLI_WECHATPAY_SERIAL_NO": self.wechatpay_serial_no,
            "LINLI_WECHATPAY_PRIVATE_KEY_PATH": self.wechatpay_private_key_path,
            "LINLI_WECHATPAY_PUBLIC_KEY_ID": self.wechatpay_public_key_id,
            "LINLI_WECHATPAY_PUBLIC_KEY_PATH": self.wechatpay_public_key_path,
            "LINLI_WECHATPAY_API_BASE": self.wechatpay_api_base,
            "LINLI_PROXY_COUNT": self.proxy_count,
            "LINLI_PHOTO_DIR": self.photo_dir,
            "LINLI_DB_STATEMENT_TIMEOUT_MS": self.db_statement_timeout_ms,
            # GET /metrics (backend/observability/metrics.py): off with 0; with a token, for its bearers only
            # (a Prometheus elsewhere), else for the loopback only.
            "LINLI_METRICS_ENABLED": _env("LINLI_METRICS", "1") != "0",
            "LINLI_METRICS_TOKEN": _env("LINLI_METRICS_TOKEN", ""),
            # Error reports to Sentry (or a compatible server) when set (backend/observability/error_reports.py).
            "LINLI_SENTRY_DSN": _env("LINLI_SENTRY_DSN", ""),
            "LINLI_PASSWORD_COST": PASSWORD_COST,
            "JWT_SECRET_KEY": self.jwt_secret_key,
            "JWT_TOKEN_LOCATION": ["headers", "cookies"],
            "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=self.access_minutes),
            "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=self.refresh_days),
            "JWT_COOKIE_SECURE": secure,
            "JWT_COOKIE_SAMESITE": "Lax",
            "JWT_COOKIE_CSRF_PROTECT": True,
            "JWT_CSRF_CHECK_FORM": True,
            "JWT_SESSION_COOKIE": False,
            "API_TITLE": "Linli 邻里 API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "RATELIMIT_ENABLED": self.ratelimit_enabled,
            "RATELIMIT_HEADERS_ENABLED": True,
            # Redis down must not turn sign-in into a 500: limits fall back to each worker's memory.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        }
