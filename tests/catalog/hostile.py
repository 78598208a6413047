"""Hostile workbooks, built small in the test: zip bombs (real and declared), liars, XXE, truncated and malformed
files. Nothing here is committed as a binary."""

import io
import struct
import zipfile

import openpyxl

SHARED = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
TYPES = "[Content_Types].xml"
SHARED_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>&xxe;</t></si></sst>"
)


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    content = io.BytesIO()
    book.save(content)
    return content.getvalue()


def with_member(content: bytes, name: str, data: bytes) -> bytes:
    """The workbook with one member replaced (or added), deflated. A shared strings part is declared in the
    content types, so openpyxl reads it (openpyxl writes inline strings and no such part of its own)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info.filename)
            if info.filename == TYPES and name == SHARED and SHARED_TYPE not in member:
                member = member.replace(b"</Types>", SHARED_TYPE + b"</Types>")
            if info.filename != name:
                target.writestr(info.filename, member)
        target.writestr(name, data)
    return out.getvalue()


def shared_strings(size: int) -> bytes:
    """A sharedStrings part of about `size` bytes of one repeated letter: deflates about 1000 to 1."""
    head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    tail = b"</t></si></sst>"
    return head + b"a" * (size - len(head) - len(tail)) + tail


def declaring(content: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s uncompressed size in the central directory set to `size` (what it declares)."""
    data = bytearray(content)
    position = data.find(b"PK\x01\x02")
    while position != -1:
        (length,) = struct.unpack_from("<H", data, position + 28)
        if bytes(data[position + 46 : position + 46 + length]) == name.encode():
            struct.pack_into("<I", data, position + 24, size)
            return bytes(data)
        position = data.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"{name} is not in the archive")


def bomb() -> bytes:
    """A small workbook whose shared strings inflate 1000 to 1 (20 MB from about 20 KB)."""
    return with_member(workbook([["channel", "channel_sku"]]), SHARED, shared_strings(20 * 1024 * 1024))


def declared_bomb() -> bytes:
    """A small workbook whose shared strings declare 3.5 GB (the archive says so; nothing that big exists)."""
    content = with_member(workbook([["channel", "channel_sku"]]), SHARED, shared_strings(10_000))
    return declaring(content, SHARED, 0xD000_0000)
