"""The one server-sent-events parser, used by every adapter that streams.

Follows the WHATWG rules: events end at a blank line; ``\\r\\n``, ``\\r`` and ``\\n``
all end lines; lines starting with ``:`` are comments (OpenRouter's
``: OPENROUTER PROCESSING``) and are dropped; several ``data:`` lines join with
``\\n``; a single space after the colon is removed.  Chunk boundaries may fall
anywhere, including inside a ``\\r\\n`` pair or a multi-byte UTF-8 character.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

import msgspec


class SSEEvent(msgspec.Struct, frozen=True):
    """One dispatched event: ``event`` type (``None`` = "message"), joined ``data``, ``id``."""

    data: str
    event: str | None = None
    id: str | None = None


class SSEParser:
    """Incremental parser: feed text, get complete events."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._pending_cr = False

    def feed(self, text: str) -> list[SSEEvent]:
        """Add decoded text; return the events completed by it."""
        return list(self.events(text))

    def events(self, text: str) -> Iterator[SSEEvent]:
        """Add decoded text; yield the events it completes, each as soon as it is
        parsed (a relay can forward the first event before the rest are parsed)."""
        if not text:
            # An empty piece (an empty chunk, or bytes that end inside a UTF-8
            # character) must not forget a CR waiting for its LF.
            return
        if self._pending_cr and text.startswith("\n"):
            text = text[1:]  # the \n of a \r\n split across chunks
        self._pending_cr = False
        buffer = self._buffer + text
        if "\r" not in buffer:
            # The common case (LF-only upstreams): one split in C, no re-slicing.
            *lines, self._buffer = buffer.split("\n")
            for line in lines:
                event = self._line(line)
                if event is not None:
                    yield event
            return
        self._buffer = buffer
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                break
            line, ending = self._buffer[: cut[0]], cut[1]
            self._buffer = self._buffer[cut[0] + ending :]
            if ending == 1 and self._buffer == "" and line is not None and cut[2] == "\r":
                self._pending_cr = True
            event = self._line(line)
            if event is not None:
                yield event

    def close(self) -> list[SSEEvent]:
        """End of stream: a final event without its blank line is still dispatched."""
        events = []
        if self._buffer:
            event = self._line(self._buffer)
            self._buffer = ""
            if event is not None:
                events.append(event)
        event = self._line("")
        if event is not None:
            events.append(event)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            if not self._data:
                self._event = None
                return None
            event = SSEEvent(data="\n".join(self._data), event=self._event, id=self._id)
            self._data, self._event = [], None
            return event
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            self._id = value
        return None


def _line_end(buffer: str) -> tuple[int, int, str] | None:
    """(index, length of the line ending, ending char) of the first line end, if any.

    ``str.find`` rather than a Python loop over characters: this runs for every line of
    every upstream stream, and a per-character loop was the largest single cost of
    relaying a stream.
    """
    lf = buffer.find("\n")
    cr = buffer.find("\r", 0, lf if lf != -1 else len(buffer))
    if cr == -1:
        return None if lf == -1 else (lf, 1, "\n")
    if cr + 1 < len(buffer):
        return cr, 2 if buffer[cr + 1] == "\n" else 1, "\r"
    return cr, 1, "\r"


def parse_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """Parse a whole byte stream synchronously (tests, fixtures)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    parser = SSEParser()
    for chunk in chunks:
        yield from parser.feed(decoder.decode(chunk))
    yield from parser.feed(decoder.decode(b"", final=True))
    yield from parser.close()


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Parse an async byte stream (``response.aiter_bytes()``) into events."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    parser = SSEParser()
    async for chunk in chunks:
        for event in parser.events(decoder.decode(chunk)):
            yield event
    for event in parser.feed(decoder.decode(b"", final=True)):
        yield event
    for event in parser.close():
        yield event
