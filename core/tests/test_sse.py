"""The shared SSE parser: property tests over framing, line endings and chunking."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

from hypothesis import given, settings
from hypothesis import strategies as st

from freeway.providers.sse import SSEEvent, aiter_sse, parse_sse

# A line's text: anything but line breaks (surrogates cannot be UTF-8 encoded).
line_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
    max_size=20,
)
name_text = line_text.filter(lambda s: s != "")
endings = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def events(draw) -> list[tuple[list[str], str | None, str | None]]:
    """Events as (data lines, event name, id)."""
    return draw(
        st.lists(
            st.tuples(
                st.lists(line_text, min_size=1, max_size=4),
                st.none() | name_text,
                st.none() | line_text,
            ),
            max_size=6,
        )
    )


def serialize(draw, spec) -> str:
    """One wire form of ``spec``: random endings, comments, spacing and noise fields."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(": keep-alive")  # OpenRouter-style comment before anything
    for data_lines, name, event_id in spec:
        if name is not None:
            lines.append(f"event: {name}")
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from([": OPENROUTER PROCESSING", ":", "retry: 100"])))
        for value in data_lines:
            spaced = draw(st.booleans()) or value.startswith(" ")
            lines.append(f"data: {value}" if spaced else f"data:{value}")
        if event_id is not None:
            lines.append(f"id: {event_id}")
        lines.append("")  # the blank line that dispatches
    out, previous = [], ""
    for line in lines:
        # After a CR, an empty line ending in LF would read as one CRLF.
        ending = draw(st.sampled_from(["\r", "\r\n"]) if previous == "\r" and not line else endings)
        out.append(line + ending)
        previous = ending
    return "".join(out)


def expected(spec) -> list[SSEEvent]:
    out, last_id = [], None
    for data_lines, name, event_id in spec:
        if event_id is not None:
            last_id = event_id
        out.append(SSEEvent(data="\n".join(data_lines), event=name, id=last_id))
    return out


def split(draw, raw: bytes) -> list[bytes]:
    """``raw`` cut at arbitrary byte offsets (inside CRLF pairs and UTF-8 characters too;
    repeated offsets give empty chunks)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    bounds = [0, *cuts, len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(st.data(), events())
def test_any_framing_and_chunking_gives_the_same_events(data, spec) -> None:
    raw = serialize(data.draw, spec).encode()
    chunks = split(data.draw, raw)
    assert list(parse_sse(chunks)) == expected(spec)


@settings(deadline=None)
@given(st.data(), events())
def test_async_parser_matches_the_sync_one(data, spec) -> None:
    chunks = split(data.draw, serialize(data.draw, spec).encode())

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def collect() -> list[SSEEvent]:
        return [event async for event in aiter_sse(source())]

    assert asyncio.run(collect()) == expected(spec)


@given(st.lists(line_text, min_size=1, max_size=3), endings)
def test_last_event_without_blank_line_is_still_dispatched(lines, ending) -> None:
    raw = "".join(f"data: {line}{ending}" for line in lines).encode()
    assert [e.data for e in parse_sse([raw])] == ["\n".join(lines)]


@given(
    st.lists(st.sampled_from([": comment", ":", "", "retry: 5", "foo: bar"]), max_size=8), endings
)
def test_comments_blank_lines_and_unknown_fields_yield_nothing(lines, ending) -> None:
    assert list(parse_sse(["".join(line + ending for line in lines).encode()])) == []


def test_done_marker_and_json_payloads_pass_verbatim() -> None:
    raw = b'data: {"a": 1}\r\n\r\n: OPENROUTER PROCESSING\r\n\r\ndata: [DONE]\r\n\r\n'
    assert [e.data for e in parse_sse([raw[i : i + 1] for i in range(len(raw))])] == [
        '{"a": 1}',
        "[DONE]",
    ]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert [e.data for e in parse_sse([b"data:  two\n\n"])] == [" two"]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert [e.data for e in parse_sse([b"data: \xff\xfe ok\n\n"])] == ["\ufffd\ufffd ok"]


def test_an_empty_chunk_between_cr_and_lf_does_not_split_an_event() -> None:
    chunks = [b"data: a\r", b"", b"\ndata: b\r\n\r\n"]
    assert [e.data for e in parse_sse(chunks)] == ["a\nb"]
    # a UTF-8 character cut across chunks, then a CR cut from its LF
    chunks = [b"data: \xc3", b"\xa9\r", b"", b"\ndata: \xe2\x82", b"\xac\r\n\r\n"]
    assert [e.data for e in parse_sse(chunks)] == ["\u00e9\n\u20ac"]
