"""One page of orders having any of k products: a k-way merge of the products' index
entries, newest first, that reads little more than it returns and makes at most k reads
a page.

Each product's entries are a stream sorted by position (``<created time>#<order id>``,
newest first). The page's state, carried in the page token, keeps for every stream the
look-ahead entry read but not returned (its head), how many entries it gave the last page,
and whether it has nothing left. A page then:

- knows the heads already; a stream whose head is older than the page's N-th newest head
  cannot contribute and is not read at all;
- reads every other stream once, below its head (or below the last page), as many entries
  as it gave the last page plus one look-ahead;
- returns the merged entries down to the newest point at which some stream's read stopped
  with more possibly behind it (so no entry is ever skipped). When a stream gives more
  than it did before, the reads the skipped streams did not need go to reading it
  further; when none are left, the page is cut there and may hold fewer than
  ``page_size`` orders, and the next page goes on.

The order of reads and the limits only change how much is read, never what is returned:
the pages concatenated are every matching entry once, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Reads a product's entries strictly older than ``below`` (all, when None), newest first,
# at most ``limit`` of them.
StreamReader = Callable[[str, str | None, int], Sequence[str]]


@dataclass(frozen=True, slots=True)
class StreamState:
    head: str | None
    gave: int
    exhausted: bool


@dataclass(frozen=True, slots=True)
class MergeState:
    # Every entry at or newer than the cursor has been returned.
    cursor: str | None
    streams: tuple[StreamState, ...]

    def encode(self) -> str:
        return json.dumps(
            {
                "c": self.cursor,
                "s": [[s.head, s.gave, int(s.exhausted)] for s in self.streams],
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str, streams: int) -> MergeState:
        """The state ``encode`` wrote; ``ValueError`` for anything else."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("s"), list):
            raise ValueError("not a merge state")
        cursor = data.get("c")
        if cursor is not None and not isinstance(cursor, str):
            raise ValueError("bad cursor")
        states = []
        for entry in data["s"]:
            if not (isinstance(entry, list) and len(entry) == 3):
                raise ValueError("bad stream state")
            head, gave, exhausted = entry
            if (
                (head is not None and not isinstance(head, str))
                or not isinstance(gave, int)
                or isinstance(gave, bool)
                or gave < 0
                or exhausted not in (0, 1)
            ):
                raise ValueError("bad stream state")
            states.append(StreamState(head, gave, bool(exhausted)))
        if len(states) != streams:
            raise ValueError("a state for other products")
        return cls(cursor, tuple(states))


@dataclass(frozen=True, slots=True)
class MergedPage:
    positions: tuple[str, ...]
    # None when every stream is exhausted and every entry returned.
    next_state: MergeState | None


def first_state(streams: int, page_size: int) -> MergeState:
    """Before the first page: nothing known, each stream expected to give an equal share."""
    share = -(-page_size // streams)
    return MergeState(None, tuple(StreamState(None, share, False) for _ in range(streams)))


def merge_page(
    products: Sequence[str], state: MergeState, page_size: int, read: StreamReader
) -> MergedPage:
    if len(products) != len(state.streams):
        raise ValueError("one stream state per product")
    known: set[str] = {s.head for s in state.streams if s.head is not None}
    entries: dict[int, list[str]] = {
        index: [stream.head] if stream.head is not None else []
        for index, stream in enumerate(state.streams)
    }
    # Where each stream's last read stopped with entries possibly behind it.
    stops: dict[int, str] = {}
    was_read: set[int] = set()
    reads_left = len(products)

    def read_stream(index: int, below: str | None, limit: int) -> None:
        nonlocal reads_left
        reads_left -= 1
        was_read.add(index)
        found = tuple(read(products[index], below, limit))
        entries[index].extend(found)
        known.update(found)
        if len(found) < limit:
            stops.pop(index, None)
        else:
            stops[index] = found[-1]

    def nth_newest() -> str | None:
        if len(known) < page_size:
            return None
        return sorted(known, reverse=True)[page_size - 1]

    def start_of(index: int) -> str:
        stream = state.streams[index]
        return stream.head or state.cursor or "\U0010ffff"

    for index in sorted(range(len(products)), key=start_of, reverse=True):
        stream = state.streams[index]
        if stream.exhausted:
            continue
        threshold = nth_newest()
        if stream.head is not None and threshold is not None and stream.head < threshold:
            continue
        below = stream.head if stream.head is not None else state.cursor
        # No stream can give a page more than a page: past that, no look-ahead is needed.
        read_stream(index, below, min(page_size, max(2, stream.gave + 1)))
    # A stream that gave more than its share cuts the page short; the reads that the
    # skipped streams did not need go to filling the page from it.
    while stops and reads_left > 0:
        index = max(stops, key=lambda i: stops[i])
        complete = sum(1 for position in known if position >= stops[index])
        if complete >= page_size:
            break
        read_stream(index, stops[index], min(page_size, page_size - complete + 1))
    newest_first = sorted(known, reverse=True)
    if stops:
        frontier = max(stops.values())
        newest_first = [position for position in newest_first if position >= frontier]
    page = tuple(newest_first[:page_size])
    if not page:
        return MergedPage((), None)
    last = page[-1]
    streams = []
    for index, stream in enumerate(state.streams):
        left = [position for position in entries[index] if position < last]
        read_to_the_end = stream.exhausted or (index in was_read and index not in stops)
        streams.append(
            StreamState(
                head=left[0] if left else None,
                gave=sum(1 for position in entries[index] if position >= last),
                # Entries read past the head are dropped and read again next time.
                exhausted=read_to_the_end and len(left) <= 1,
            )
        )
    finished = all(s.exhausted and s.head is None for s in streams)
    return MergedPage(page, None if finished else MergeState(last, tuple(streams)))
