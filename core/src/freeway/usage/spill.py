"""Usage records that could not be delivered, kept on disk until the next start.

A spill file is JSON lines of :class:`UsageRecord`, named
``<target>.<time_ns>.<pid>.<seq>.jsonl`` in ``<data dir>/usage-spill/``, where
``target`` is a sink name (the batch failed for that sink only) or ``@all`` (the
records never reached any sink: queue overflow, or shutdown ran out of time).
Files appear atomically (written as ``.part``, then renamed).  A process replays a
file after claiming it by renaming it to ``….claimed-<pid>``, so several workers
starting together never replay one file twice; a claim left by a dead process is
taken over.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from pathlib import Path

import msgspec

from freeway.usage.records import UsageRecord

log = logging.getLogger(__name__)

EVERY_SINK = "@all"
_SUFFIX = ".jsonl"
_CLAIM = ".claimed-"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(UsageRecord)


def file_target(sink_name: str) -> str:
    """The file-name form of a sink name."""
    return sink_name if sink_name == EVERY_SINK else _UNSAFE.sub("_", sink_name)


class SpillDir:
    """Writes, claims, reads and removes spill files in one directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seq = itertools.count()
        self._mine: set[Path] = set()

    def write(self, target: str, records: list[UsageRecord]) -> Path:
        """Spill ``records`` for ``target`` (a sink name or ``EVERY_SINK``)."""
        self.path.mkdir(parents=True, exist_ok=True)
        name = f"{file_target(target)}.{time.time_ns()}.{os.getpid()}.{next(self._seq)}"
        part = self.path / (name + ".part")
        with part.open("wb") as fh:
            fh.write(b"".join(_encoder.encode(r) + b"\n" for r in records))
            fh.flush()
            os.fsync(fh.fileno())
        final = self.path / (name + _SUFFIX)
        os.replace(part, final)
        return final

    def claim(self) -> list[tuple[str, Path]]:
        """Take every unclaimed (or abandoned) spill file: ``(target, claimed path)``."""
        if not self.path.is_dir():
            return []
        claimed: list[tuple[str, Path]] = []
        me = os.getpid()
        for entry in sorted(self.path.iterdir()):
            name = entry.name
            if name.endswith(_SUFFIX):
                base = name
            elif _CLAIM in name:
                base, _, owner = name.rpartition(_CLAIM)
                if not owner.isdigit() or _alive(int(owner), entry in self._mine):
                    continue
            else:
                continue
            target = self.path / f"{base}{_CLAIM}{me}"
            try:
                os.rename(entry, target)
            except FileNotFoundError:
                continue  # another process claimed it first
            self._mine.add(target)
            claimed.append((base.split(".", 1)[0], target))
        return claimed

    @staticmethod
    def read(path: Path) -> list[UsageRecord]:
        """The records of one spill file; unreadable lines are logged and skipped."""
        records = []
        for number, line in enumerate(path.read_bytes().splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(_decoder.decode(line))
            except msgspec.DecodeError as exc:
                log.warning("usage spill %s line %d unreadable, skipped: %s", path, number, exc)
        return records

    def remove(self, path: Path) -> None:
        """Forget a replayed file."""
        self._mine.discard(path)
        path.unlink(missing_ok=True)

    def pending(self) -> list[Path]:
        """Spill files not yet replayed (for tests and ``freeway`` diagnostics)."""
        if not self.path.is_dir():
            return []
        return sorted(
            p for p in self.path.iterdir() if p.name.endswith(_SUFFIX) or _CLAIM in p.name
        )


def _alive(pid: int, claimed_by_us: bool) -> bool:
    """Is the claim of ``pid`` still held?  Our own pid counts only for claims we made
    (a container restart may reuse the pid of the previous run)."""
    if pid == os.getpid():
        return claimed_by_us
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
