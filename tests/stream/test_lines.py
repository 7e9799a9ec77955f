"""The stream's framing: lines however the network cuts them, keep-alives, X's notices, over-long lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from xhooks.stream.lines import LineFramer, LineKind, kind

EVENT = b'{"data":{"event_uuid":"1","event_type":"post.create","filter":{"user_id":"2"}}}'


def test_lines_end_with_crlf_or_lf_and_keep_alives_are_empty() -> None:
    framer = LineFramer()
    assert framer.feed(EVENT[:10]) == []
    assert framer.feed(EVENT[10:] + b"\r\n\r\n") == [EVENT, b""]
    assert framer.feed(b"\n" + EVENT + b"\n") == [b"", EVENT]


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_any_cut_of_the_bytes_gives_the_same_lines(cuts: list[int]) -> None:
    data = EVENT + b"\r\n\r\n" + b"not json\n" + EVENT + b"\r\n"
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    framer = LineFramer()
    lines = [line for a, b in zip(points, points[1:], strict=False) for line in framer.feed(data[a:b])]
    assert lines == [EVENT, b"", b"not json", EVENT]


def test_an_over_long_line_is_handed_on_cut_and_the_rest_of_it_dropped() -> None:
    framer = LineFramer(max_line=8)
    assert framer.feed(b"0123456789") == [b"01234567"]
    assert framer.feed(b"abcdef") == []
    assert framer.feed(b"gh\nok\n") == [b"ok"]


def test_kinds() -> None:
    assert kind(b"") is LineKind.KEEP_ALIVE
    assert kind(b"  ") is LineKind.KEEP_ALIVE
    assert kind(EVENT) is LineKind.EVENT
    assert kind(b"not json") is LineKind.EVENT  # the store quarantines it
    assert kind(b'{"errors":[{"title":"operational-disconnect"}]}') is LineKind.NOTICE
    assert kind(b'{"data":{"event_type":"x"},"errors":[{}]}') is LineKind.EVENT  # a partial error is still an event
    assert kind(b'{"errors": not json') is LineKind.EVENT
