"""The edge app's client for Rasa's REST channel and the health endpoints, on loopback."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import aiohttp


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered with an error."""


class RasaClient:
    """Sends one message to Rasa's REST webhook and returns the bot's messages."""

    def __init__(self, rasa_url: str, actions_url: str, timeout: float = 30.0) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.actions_url = actions_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: Optional[aiohttp.ClientSession] = None

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """POST to /webhooks/rest/webhook; raise RasaUnavailable on any failure."""
        assert self._http is not None, "RasaClient.start() was not awaited"
        try:
            async with self._http.post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": message},
            ) as reply:
                if reply.status != 200:
                    raise RasaUnavailable(f"Rasa answered HTTP {reply.status}")
                body = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from error
        if not isinstance(body, list):
            raise RasaUnavailable("unexpected reply")
        return body

    async def healthy(self) -> Dict[str, bool]:
        """Whether Rasa and the action server each answer their health URL."""
        assert self._http is not None
        checks = {"rasa": f"{self.rasa_url}/", "actions": f"{self.actions_url}/health"}
        result: Dict[str, bool] = {}
        for name, url in checks.items():
            try:
                async with self._http.get(url, timeout=aiohttp.ClientTimeout(total=3)) as reply:
                    result[name] = reply.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                result[name] = False
        return result
