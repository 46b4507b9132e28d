"""The encrypted backup file: a header line, then length-prefixed Fernet tokens.

Each token holds a frame number, a "last frame" flag and up to ``CHUNK`` bytes. Frame 0 is
the metadata (JSON: database kind, time, migration revision, row counts); the frames after it
are the database copy. Fernet authenticates every frame (AES-128-CBC with HMAC-SHA256); the
numbers and the flag, inside the encryption, make reordered, repeated or cut-off frames an
error, not a quietly shorter database. Frames keep memory flat whatever the database's size.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import IO, Any

from cryptography.fernet import Fernet, InvalidToken

MAGIC = b"godparents-backup 1\n"
CHUNK = 4 * 1024 * 1024
_LENGTH = struct.Struct(">I")
_FRAME = struct.Struct(">QB")  # frame number, 1 on the last frame
MAX_TOKEN = 2 * CHUNK  # base64 and Fernet's overhead stay well under this


class ArchiveError(Exception):
    """Not a backup, the wrong key, or a damaged or incomplete file."""


class ArchiveWriter:
    """``with ArchiveWriter(stream, fernet, metadata) as out: out.write(data)``."""

    def __init__(self, stream: IO[bytes], fernet: Fernet, metadata: dict[str, Any]) -> None:
        self._stream = stream
        self._fernet = fernet
        self._number = 0
        self._buffer = bytearray()
        stream.write(MAGIC)
        self._frame(json.dumps(metadata, sort_keys=True).encode(), last=False)

    def _frame(self, payload: bytes, last: bool) -> None:
        token = self._fernet.encrypt(_FRAME.pack(self._number, int(last)) + payload)
        self._stream.write(_LENGTH.pack(len(token)))
        self._stream.write(token)
        self._number += 1

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= CHUNK:
            self._frame(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]

    def close(self) -> None:
        self._frame(bytes(self._buffer), last=True)
        self._buffer.clear()

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self.close()


def _frames(stream: IO[bytes], fernet: Fernet) -> Iterator[tuple[bool, bytes]]:
    if stream.read(len(MAGIC)) != MAGIC:
        raise ArchiveError("not a godparents backup file")
    expected = 0
    while True:
        prefix = stream.read(_LENGTH.size)
        if len(prefix) < _LENGTH.size:
            raise ArchiveError(
                f"the file ends after frame {expected - 1} without its last frame: it is incomplete"
            )
        (length,) = _LENGTH.unpack(prefix)
        if length > MAX_TOKEN:
            raise ArchiveError(f"frame {expected} is damaged (length {length})")
        token = stream.read(length)
        try:
            plain = fernet.decrypt(token)
        except InvalidToken as error:
            raise ArchiveError(
                f"frame {expected} cannot be decrypted: the wrong backup key, "
                "or the file is damaged"
            ) from error
        number, last = _FRAME.unpack_from(plain)
        if number != expected:
            raise ArchiveError(
                f"frame {number} where frame {expected} belongs: the file has been tampered with"
            )
        yield bool(last), plain[_FRAME.size :]
        expected += 1
        if last:
            if stream.read(1):
                raise ArchiveError("data after the last frame")
            return


def read_archive(stream: IO[bytes], fernet: Fernet) -> tuple[dict[str, Any], Iterator[bytes]]:
    """The metadata, and an iterator over the database copy's bytes. Every frame is checked
    as it is read: consume the iterator to the end before trusting what it gave."""
    frames = _frames(stream, fernet)
    last, head = next(frames)
    if last:
        raise ArchiveError("the file holds metadata and no database")
    try:
        metadata = json.loads(head)
    except ValueError as error:
        raise ArchiveError("the metadata frame is not JSON") from error

    def payload() -> Iterator[bytes]:
        for _last, data in frames:
            yield data

    return metadata, payload()
