"""uvicorn's h11 protocol with the two things the app cannot do itself, because they happen before
a request reaches it:

- A request-head timeout. uvicorn closes idle keep-alive connections (timeout_keep_alive) but puts
  no limit on a connection that is opened and never completes a request head (slowloris: one byte
  every few seconds holds a connection forever). Here a request head must be complete within
  `header_timeout` seconds of the connection opening or of the previous response; otherwise the
  server answers 408 (if anything was sent) and closes.
- Requests h11 refuses (malformed request line or headers, a head over the size limit, bytes that
  are not HTTP) are answered in the app's error shape, JSON with the security headers, instead of
  uvicorn's plain-text "Invalid HTTP request received.".

And one thing for speed: uvicorn writes a response's head and its body with separate socket sends;
`_CoalescingTransport` joins what is written in one turn of the event loop into one send (one
syscall and one wake-up of the client instead of two: ~4% of a JSON API request on loopback).

What still answers outside the app: nothing else on this path. uvicorn's plain-text 500 only
happens when the app fails before starting a response, which its catch-all handler prevents, and
its 503 "Exceeded concurrency limit." only with --limit-concurrency, which `serve` does not set.
"""
from __future__ import annotations

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.security import SECURITY_HEADERS


def _raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json",
            f"content-length: {len(body)}", "connection: close"]
    head += [f"{k}: {v}" for k, v in SECURITY_HEADERS]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


LINGER_SECONDS = 2.0


class _CoalescingTransport:
    """The connection's transport with writes gathered until the end of the current event-loop
    turn, then sent as one. Order is kept (every write goes through here); close, EOF and abort
    see the pending bytes first. Everything else is the real transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def __getattr__(self, name: str):   # is_closing, get_extra_info, pause_reading, ...
        return getattr(self._transport, name)


class GuardedH11Protocol(H11Protocol):
    header_timeout: float = 10.0   # set per server by protocol_class()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = _CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if getattr(self, "_lingering", False):
            return                     # after a refusal: discard what the client still sends
        if self.conn.their_state is h11.IDLE:
            self._arm_head_timer()     # a new request head starts (or continues) arriving
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # head complete (or the connection failed): timer not needed

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # uvicorn's keep-alive timer now covers the idle wait; the head timer starts with the next byte
        self._cancel_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if getattr(self, "_head_timer", None) is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self.conn.trailing_data[0]:   # part of a head arrived: say why the connection ends
            self.transport.write(_raw_response(408, "Request Timeout", "request_timeout",
                                               f"the request head was not complete within {self.header_timeout:g} s"))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self._cancel_head_timer()
        self.transport.write(_raw_response(400, "Bad Request", "bad_request",
                                           "malformed HTTP request (request line, headers or their size)"))
        # Lingering close: closing with unread request bytes makes the kernel send a reset, which
        # can destroy the answer before the client reads it. Half-close, discard the rest for a
        # moment, then close.
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()


def protocol_class(header_timeout: float) -> type[GuardedH11Protocol]:
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"header_timeout": header_timeout})
