"""Limits on the spreadsheets people upload (mapping, stock-level and incoming-supply imports), checked before a
file is parsed, so a hostile or careless file is refused with one clear line instead of taking the server's memory.

- the file's size (IMPORT_MAX_UPLOAD_BYTES);
- an XLSX's zip archive, from its directory alone (nothing is inflated): the total of its members' declared
  sizes (IMPORT_MAX_UNCOMPRESSED_BYTES), the declared size of each member that is read whole into memory, i.e.
  every member but the worksheets, which are streamed (IMPORT_MAX_MEMBER_BYTES), and each large member's
  compression ratio (IMPORT_MAX_COMPRESSION_RATIO). Python's zipfile never inflates a member past its declared
  size (it stops there and the CRC check fails), so a member that lies about its size cannot get past these;
- the number of rows (IMPORT_MAX_ROWS): counted cheaply before parsing (a CSV's lines, an XLSX's declared
  dimension), and again as rows are read, so a file that under-declares is stopped at the limit.

The limits come from the environment (config/settings.py; docs/security.md, "Files people upload").
"""

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]  # no stubs are installed
from django.conf import settings

T = TypeVar("T")
MB = 1024 * 1024
# A member smaller than this is never refused for its ratio: tiny parts compress oddly and cost nothing.
RATIO_FLOOR_BYTES = 1 * MB
WORKSHEETS = "xl/worksheets/"


class FileRefused(ValueError):
    """A file that is not read: too big, a zip bomb, too many rows, or not the format it claims to be.
    The message is one line, for the person who sent the file."""


@dataclass(frozen=True)
class FileLimits:
    upload_bytes: int
    uncompressed_bytes: int
    member_bytes: int
    compression_ratio: int
    rows: int

    @classmethod
    def current(cls) -> "FileLimits":
        return cls(
            upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
            uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            member_bytes=settings.IMPORT_MAX_MEMBER_BYTES,
            compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
            rows=settings.IMPORT_MAX_ROWS,
        )


def size_text(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size >= MB else f"{size:,} bytes"


def file_size_check(size: int, limits: FileLimits | None = None) -> None:
    limits = limits or FileLimits.current()
    if size > limits.upload_bytes:
        raise FileRefused(
            f"the file is {size_text(size)}; the limit is {size_text(limits.upload_bytes)} (IMPORT_MAX_UPLOAD_BYTES)"
        )


def xlsx_archive_check(source: str | Path | IO[bytes], limits: FileLimits | None = None) -> None:
    """Refuse a workbook whose archive would inflate beyond the limits, from the sizes its directory declares."""
    limits = limits or FileLimits.current()
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise FileRefused(f"expected an XLSX workbook, but the file is not one ({exception_text(exc)})") from exc
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    total = sum(member.file_size for member in members)
    if total > limits.uncompressed_bytes:
        raise FileRefused(
            f"the workbook would inflate to {size_text(total)}; the limit is {size_text(limits.uncompressed_bytes)} "
            "(IMPORT_MAX_UNCOMPRESSED_BYTES)"
        )
    for member in members:
        streamed = member.filename.startswith(WORKSHEETS)
        if not streamed and member.file_size > limits.member_bytes:
            raise FileRefused(
                f"the workbook's part {member.filename} would inflate to {size_text(member.file_size)}; the limit is "
                f"{size_text(limits.member_bytes)} (IMPORT_MAX_MEMBER_BYTES)"
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_FLOOR_BYTES and ratio > limits.compression_ratio:
            raise FileRefused(
                f"the workbook's part {member.filename} is compressed {ratio:,.0f} to 1, like a zip bomb; the limit "
                f"is {limits.compression_ratio} to 1 (IMPORT_MAX_COMPRESSION_RATIO)"
            )


def rows_check(count: int, limits: FileLimits | None = None, *, declared: bool = False) -> None:
    """Refuse a file with more data rows than the limit (`declared`: the count is what the file says it has)."""
    limits = limits or FileLimits.current()
    if count > limits.rows:
        has = "declares" if declared else "has"
        raise FileRefused(
            f"the file {has} {count:,} rows; the limit is {limits.rows:,} (IMPORT_MAX_ROWS): split it into smaller files"
        )


def csv_rows_check(path: str | Path, limits: FileLimits | None = None) -> None:
    """A CSV's lines, counted without parsing (an upper bound on its records, less the header)."""
    with open(path, "rb") as stream:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
    rows_check(max(lines - 1, 0), limits)


def rows_limited(rows: Iterable[T], limits: FileLimits | None = None) -> Iterator[T]:
    """The rows (header first), stopped with FileRefused at the first data row past the limit."""
    limit = (limits or FileLimits.current()).rows
    for number, row in enumerate(rows):
        if number > limit:
            raise FileRefused(f"the file has more than {limit:,} rows (IMPORT_MAX_ROWS): split it into smaller files")
        yield row


def exception_text(exc: BaseException) -> str:
    """What went wrong, in one line: the innermost cause (a reader's own wrapper says less), named by its type."""
    seen = {id(exc)}
    while (inner := exc.__cause__ or exc.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        exc = inner
    if isinstance(exc, DefusedXmlException):
        return f"{type(exc).__name__}: its XML declares a DTD or entities, which are never read"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
