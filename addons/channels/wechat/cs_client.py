"""Customer-service messages (客服消息): answers sent after the passive reply.

Uses aiohttp directly (installed with Rasa) rather than wechatpy's blocking
WeChatClient: no executor threads, and the token cache lives on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable, Dict, Optional

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
INVALID_TOKEN_CODES = frozenset({40001, 40014, 42001})  # invalid, malformed, expired
OUTSIDE_WINDOW_CODE = 45015  # the user has not written within 48 h
TOKEN_EXPIRY_MARGIN_SECONDS = 120


class CustomerServiceError(Exception):
    """The API could not be reached or answered with an error."""


class CustomerServiceClient:
    """Sends text messages to a user through ``/cgi-bin/message/custom/send``."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        base_url: str = DEFAULT_API_BASE_URL,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._clock = clock
        self._session: Optional[aiohttp.ClientSession] = None
        self._token: Optional[str] = None
        self._token_expires = 0.0
        self._token_lock: Optional[asyncio.Lock] = None

    async def send_text(self, openid: str, text: str) -> bool:
        """Send ``text`` to ``openid``; False (logged) when it was not delivered."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        try:
            token = await self._access_token()
            result = await self._post_message(token, body)
            if result.get("errcode") in INVALID_TOKEN_CODES:
                token = await self._access_token(stale=token)
                result = await self._post_message(token, body)
        except CustomerServiceError as error:
            logger.error("WeChat customer-service message not sent: %s", error)
            return False
        code = result.get("errcode", 0)
        if code == 0:
            return True
        if code == OUTSIDE_WINDOW_CODE:
            logger.warning("WeChat customer-service message dropped: user outside the 48 h window (45015)")
        else:
            logger.error("WeChat customer-service message refused: errcode %s %s", code, result.get("errmsg", ""))
        return False

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _access_token(self, stale: Optional[str] = None) -> str:
        """The cached access token; fetched anew when expired or equal to ``stale``."""
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if self._token and self._token != stale and self._clock() < self._token_expires:
                return self._token
            data = await self._request(
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self._app_id, "secret": self._app_secret},
            )
            token = data.get("access_token")
            if not token:
                raise CustomerServiceError(f"no access token: errcode {data.get('errcode')} {data.get('errmsg', '')}")
            expires_in = float(data.get("expires_in") or 7200)
            self._token = str(token)
            self._token_expires = self._clock() + max(expires_in - TOKEN_EXPIRY_MARGIN_SECONDS, 0.0)
            return self._token

    async def _post_message(self, token: str, body: Dict[str, Any]) -> Dict[str, Any]:
        # ensure_ascii=False: WeChat shows \uXXXX escapes literally.
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await self._request(
            "POST",
            "/cgi-bin/message/custom/send",
            params={"access_token": token},
            data=payload,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.request(method, self._base_url + path, **kwargs) as response:
                text = await response.text()
                if response.status != 200:
                    raise CustomerServiceError(f"{path} answered HTTP {response.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # The URL carries the secret or the token: never log it.
            raise CustomerServiceError(f"{path} unreachable: {type(error).__name__}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise CustomerServiceError(f"{path} answered non-JSON") from None
        if not isinstance(data, dict):
            raise CustomerServiceError(f"{path} answered unexpected JSON")
        return data
