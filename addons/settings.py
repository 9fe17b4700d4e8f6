"""The one place that reads environment variables (Rasa server, launcher, scripts)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "rasa.db"


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def _float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _db_url(value: str) -> Optional[str]:
    """TRACKER_DB_URL, with `postgres://` spelled as SQLAlchemy wants; None when unset."""
    value = value.strip()
    if value.startswith("postgres://"):
        return "postgresql://" + value[len("postgres://") :]
    return value or None


@dataclass(frozen=True)
class Settings:
    action_host: str
    action_port: int
    rasa_port: int
    # Storage and privacy. Defaults keep Settings(...) with the fields above valid.
    tracker_db_url: Optional[str] = None  # None: the embedded SQLite file
    redis_url: Optional[str] = None
    # Rasa reads SANIC_WORKERS itself; read here too so that >1 without Redis is refused.
    sanic_workers: int = 1
    retention_days: int = 180
    max_message_chars: int = 2000
    # A session is stored in segments of at most this many user turns (0: one segment), so a
    # turn costs the same at turn 200 as at turn 1 (addons/stores/tracker_segments.py).
    segment_turns: int = 12
    rate_limit_per_minute: int = 30
    # WeChat Official Account; empty aes key = plaintext mode.
    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    wechat_reply_timeout: float = 4.5
    # Rasa HTTP API (/conversations, /model ...): off unless a token or JWT secret is set.
    rasa_auth_token: str = ""
    rasa_jwt_secret: str = ""
    rasa_jwt_method: str = "HS256"
    # Largest request body the Rasa server accepts (Sanic's own default is 100 MB).
    request_max_size: int = 1_048_576

    @property
    def api_enabled(self) -> bool:
        return bool(self.rasa_auth_token or self.rasa_jwt_secret)

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}"

    @property
    def tracker_url(self) -> str:
        return self.tracker_db_url or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def load_settings() -> Settings:
    return Settings(
        action_host=os.environ.get("ACTION_SERVER_HOST", "127.0.0.1"),
        action_port=_int("ACTION_SERVER_PORT", 5055),
        rasa_port=_int("RASA_PORT", 5005),
        tracker_db_url=_db_url(os.environ.get("TRACKER_DB_URL", "")),
        redis_url=os.environ.get("REDIS_URL", "").strip() or None,
        sanic_workers=_int("SANIC_WORKERS", 1),
        retention_days=_int("RETENTION_DAYS", 180),
        max_message_chars=_int("MAX_MESSAGE_CHARS", 2000),
        segment_turns=_int("TRACKER_SEGMENT_TURNS", 12),
        rate_limit_per_minute=_int("RATE_LIMIT_PER_MINUTE", 30),
        wechat_token=os.environ.get("WECHAT_TOKEN", ""),
        wechat_app_id=os.environ.get("WECHAT_APP_ID", ""),
        wechat_app_secret=os.environ.get("WECHAT_APP_SECRET", ""),
        wechat_aes_key=os.environ.get("WECHAT_AES_KEY", ""),
        wechat_api_base_url=os.environ.get("WECHAT_API_BASE_URL", "https://api.weixin.qq.com"),
        wechat_reply_timeout=_float("WECHAT_REPLY_TIMEOUT", 4.5),
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN", "").strip(),
        rasa_jwt_secret=os.environ.get("RASA_JWT_SECRET", "").strip(),
        rasa_jwt_method=os.environ.get("RASA_JWT_METHOD", "").strip() or "HS256",
        request_max_size=_int("SANIC_REQUEST_MAX_SIZE", 1_048_576),
    )
