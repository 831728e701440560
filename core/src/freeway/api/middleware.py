"""Pure ASGI middleware: request ids.  Kept tiny: it runs on every proxied request."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Take ``x-request-id`` from the client (if sane) or make one; echo it back.

    The id is stored in ``scope["state"]["request_id"]`` for handlers and usage records.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                if 0 < len(value) <= 128 and value.isascii():
                    request_id = value.decode()
                break
        if request_id is None:
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: Any = message.setdefault("headers", [])
                headers.append((REQUEST_ID_HEADER, raw_id))
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware
