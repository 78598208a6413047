"""The first worksheet of an XLSX workbook as rows of values, streamed straight from its XML with expat.

openpyxl's read-only mode builds, for every cell, an element tree node, a dict and (for inline strings) a rich
text object, through a pure-Python XML parser whenever defusedxml is installed: about 8x slower than reading
the same rows from a CSV. This reader keeps nothing per cell: expat calls back for the few elements that
matter (row, c, v, is/t), and each finished row is handed on as a list of values. Memory is one row, a chunk
of XML and the shared-string table (which the workbook stores once for the whole sheet).

Values are what openpyxl's `iter_rows(values_only=True)` gives with `data_only=True`, so the two readers are
interchangeable (tests/catalog/test_xlsx_stream.py compares them): strings (shared, inline or a formula's
cached result), ints and floats as openpyxl casts them, booleans, error codes as text, datetimes for numbers
in a date format (the workbook's 1900 or 1904 calendar), None for an empty cell. Rows are numbered as in the
sheet: a row missing from the file comes as [], a row ends at its last cell, a cell missing inside a row is None.

Safety: the workbook's XML may not declare a DTD (an XLSX never needs one); a part that does is refused with
ValueError before any entity could be defined, so there is no entity expansion and no external entity. Only
the parts named by the workbook's relationships are opened, from inside the archive.
"""

import contextlib
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel

CHUNK = 1 << 16
REL_WORKSHEET = "/worksheet"
REL_SHARED_STRINGS = "/sharedStrings"
REL_STYLES = "/styles"
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


class XlsxUnreadable(ValueError):
    """Not a workbook this reader can read: not a zip, a part missing, malformed XML, a DTD. One line, for the
    person who sent the file; the cause is chained."""


UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, IndexError, ValueError, expat.ExpatError, OSError)


def xlsx_values(source: str | Path | IO[bytes]) -> Iterator[list[Any]]:
    """The first worksheet's rows, each a list of values (see the module's docstring)."""
    try:
        with zipfile.ZipFile(source) as archive:
            book = _Book(archive)
            with archive.open(book.sheet) as stream:
                yield from _SheetReader(book).rows(stream)
    except UNREADABLE as exc:
        raise _unreadable(exc) from exc


def xlsx_declared_rows(source: str | Path | IO[bytes]) -> int | None:
    """The rows the first worksheet says it spans (its <dimension>, read from the sheet's head), or None."""
    try:
        return _declared_rows(source)
    except UNREADABLE as exc:
        raise _unreadable(exc) from exc


def _unreadable(exc: BaseException) -> XlsxUnreadable:
    if isinstance(exc, XlsxUnreadable):
        return exc
    if isinstance(exc, zipfile.BadZipFile):
        return XlsxUnreadable(f"not an XLSX workbook ({exc})")
    if isinstance(exc, KeyError):  # zipfile: "There is no item named 'xl/workbook.xml' in the archive"
        return XlsxUnreadable(f"not an XLSX workbook: {exc.args[0] if exc.args else exc}")
    return XlsxUnreadable(f"{type(exc).__name__}: {exc}")


def _declared_rows(source: str | Path | IO[bytes]) -> int | None:
    with zipfile.ZipFile(source) as archive:
        book = _Book(archive, strings=False)
        with archive.open(book.sheet) as stream:
            found: list[str] = []

            class Found(Exception):
                pass

            def start(name: str, attrs: dict[str, str]) -> None:
                tag = name.rpartition(":")[2]
                if tag == "dimension":
                    found.append(attrs.get("ref", ""))
                    raise Found
                if tag == "sheetData":
                    raise Found

            with contextlib.suppress(Found):
                _parse(stream, start=start)
    last = re.fullmatch(r"\$?[A-Z]+\$?\d+:\$?[A-Z]+\$?(\d+)", found[0]) if found else None
    return int(last.group(1)) if last else None


class _Book:
    """The parts of the workbook the first sheet needs: its path, shared strings, date styles and calendar."""

    def __init__(self, archive: zipfile.ZipFile, *, strings: bool = True):
        self.archive = archive
        names = set(archive.namelist())
        workbook = "xl/workbook.xml"
        rels = _relationships(archive, "xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else {}
        sheet_ids, self.date1904 = _workbook(archive, workbook)
        sheets = [rels[rid][1] for rid in sheet_ids if rid in rels and rels[rid][0].endswith(REL_WORKSHEET)]
        if not sheets:
            raise XlsxUnreadable("the workbook has no worksheet")
        self.sheet = sheets[0]
        by_type = {kind.rpartition("/")[2]: target for kind, target in rels.values()}
        # Shared strings where openpyxl looks for them: the part the content types declare, else the relationship.
        shared = _content_type_part(archive, SHARED_STRINGS_TYPE) if "[Content_Types].xml" in names else None
        shared = shared or by_type.get(REL_SHARED_STRINGS[1:])
        self.strings: list[str] = _shared_strings(archive, shared) if strings and shared in names else []
        styles = by_type.get(REL_STYLES[1:])
        self.date_styles, self.timedelta_styles = _date_styles(archive, styles) if styles in names else (set(), set())
        self.epoch = CALENDAR_MAC_1904 if self.date1904 else WINDOWS_EPOCH


class _SheetReader:
    """Sheet XML → rows of values; the expat handlers keep only the current row and the current cell's text."""

    def __init__(self, book: _Book):
        self.book = book

    def rows(self, stream: IO[bytes]) -> Iterator[list[Any]]:
        strings, date_styles, timedelta_styles, epoch = (
            self.book.strings,
            self.book.date_styles,
            self.book.timedelta_styles,
            self.book.epoch,
        )
        done: list[list[Any]] = []  # rows finished during the last chunk
        row: list[Any] = []
        row_number = 0
        column = 0  # the current cell's column (1-based)
        kind = "n"  # the current cell's type
        style = 0
        text: list[str] = []  # the current <v> or inline <t>'s text
        capture = False  # inside a <v>, or a <t> of an inline string outside a phonetic run
        inline = False
        phonetic = False
        value: Any = None
        local: dict[str, str] = {}

        def tag_of(name: str) -> str:
            tag = local.get(name)
            if tag is None:
                tag = local[name] = name.rpartition(":")[2]
            return tag

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal row, row_number, column, kind, style, text, capture, inline, phonetic, value
            tag = local.get(name) or tag_of(name)
            if tag == "c":
                ref = attrs.get("r")
                column = _column(ref) if ref else column + 1
                kind = attrs.get("t", "n")
                style = int(attrs.get("s") or 0)
                value = None
            elif tag == "v":
                capture, text = True, []
            elif tag == "row":
                number = attrs.get("r")
                number_now = int(number) if number else row_number + 1
                while row_number < number_now - 1:  # rows the file leaves out are empty rows
                    row_number += 1
                    done.append([])
                row_number, row, column = number_now, [], 0
            elif tag == "is":
                inline, text = True, []
            elif tag == "t":
                capture = inline and not phonetic
            elif tag == "rPh":
                phonetic = True

        def end(name: str) -> None:
            nonlocal capture, inline, phonetic, value
            tag = local.get(name) or tag_of(name)
            if tag == "v":
                capture = False
                value = "".join(text) if len(text) != 1 else text[0]
            elif tag == "c":
                if inline:
                    inline = False
                    cell: Any = "".join(text)
                elif value is None or value == "":
                    cell = None
                elif kind == "n":
                    cell = float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                    if style in date_styles:
                        try:
                            cell = from_excel(cell, epoch, timedelta=style in timedelta_styles)
                        except (OverflowError, ValueError):
                            cell = "#VALUE!"  # a serial outside the calendar, as openpyxl reads it
                elif kind == "s":
                    cell = strings[int(value)]
                elif kind == "b":
                    cell = bool(int(value))
                elif kind == "d":
                    from openpyxl.utils.datetime import from_ISO8601

                    cell = from_ISO8601(value)
                else:  # "str" (a formula's text), "e" (an error code)
                    cell = value
                if column > len(row) + 1:
                    row.extend([None] * (column - 1 - len(row)))
                if column == len(row) + 1:
                    row.append(cell)
                else:  # a cell written out of order: keep the sheet's column
                    row[column - 1] = cell
            elif tag == "row":
                done.append(row)
            elif tag == "t":
                capture = False
            elif tag == "rPh":
                phonetic = False

        def characters(data: str) -> None:
            if capture:
                text.append(data)

        parser = _parser(start, end, characters)
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
            if done:
                yield from done
                done.clear()
        parser.Parse(b"", True)
        yield from done


def _column(ref: str) -> int:
    """'C12' -> 3."""
    number = 0
    for char in ref:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        elif char != "$":
            break
    return number


def _parser(
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    characters: Callable[[str], None] | None = None,
) -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = CHUNK
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = start
    if end:
        parser.EndElementHandler = end
    if characters:
        parser.CharacterDataHandler = characters
    return parser


def _refuse_dtd(*_: object) -> None:
    raise XlsxUnreadable("the workbook's XML declares a DTD or entities, which are never read")


def _parse(
    stream: IO[bytes],
    *,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    characters: Callable[[str], None] | None = None,
) -> None:
    parser = _parser(start, end, characters)
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _relationships(archive: zipfile.ZipFile, path: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, part path in the archive) of a .rels part."""
    folder = posixpath.dirname(posixpath.dirname(path))  # xl/_rels/workbook.xml.rels -> xl
    found: dict[str, tuple[str, str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), part)

    with archive.open(path) as stream:
        _parse(stream, start=start)
    return found


def _content_type_part(archive: zipfile.ZipFile, content_type: str) -> str | None:
    """The part [Content_Types].xml declares with this content type (an Override), or None."""
    found: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Override" and attrs.get("ContentType") == content_type:
            found.append(attrs.get("PartName", "").lstrip("/"))

    with archive.open("[Content_Types].xml") as stream:
        _parse(stream, start=start)
    return found[0] if found else None


def _workbook(archive: zipfile.ZipFile, path: str) -> tuple[list[str], bool]:
    """The sheets' relationship ids in workbook order, and whether the workbook uses the 1904 calendar."""
    ids: list[str] = []
    date1904 = [False]

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "sheet":
            rid = next((v for k, v in attrs.items() if k == "r:id" or k.endswith(":id")), None)
            if rid:
                ids.append(rid)
        elif tag == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    with archive.open(path) as stream:
        _parse(stream, start=start)
    return ids, date1904[0]


def _shared_strings(archive: zipfile.ZipFile, path: str) -> list[str]:
    """Each <si>'s text: its <t>, or its runs' <t>s joined, phonetic runs left out (as openpyxl reads them)."""
    strings: list[str] = []
    parts: list[str] = []
    state = {"capture": False, "phonetic": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t":
            state["capture"] = not state["phonetic"]
        elif tag == "si":
            parts.clear()
        elif tag == "rPh":
            state["phonetic"] = True

    def end(name: str) -> None:
        tag = name.rpartition(":")[2]
        if tag == "t":
            state["capture"] = False
        elif tag == "si":
            strings.append("".join(parts).replace("x005F_", ""))
        elif tag == "rPh":
            state["phonetic"] = False

    def characters(data: str) -> None:
        if state["capture"]:
            parts.append(data)

    with archive.open(path) as stream:
        _parse(stream, start=start, end=end, characters=characters)
    return strings


def _date_styles(archive: zipfile.ZipFile, path: str) -> tuple[set[int], set[int]]:
    """The cell styles (indexes into cellXfs) whose number format is a date, and those that are a duration."""
    custom: dict[int, str] = {}
    formats: list[int] = []
    depth = {"cellXfs": False}

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = name.rpartition(":")[2]
        if tag == "numFmt":
            custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            depth["cellXfs"] = True
        elif tag == "xf" and depth["cellXfs"]:
            formats.append(int(attrs.get("numFmtId") or 0))

    def end(name: str) -> None:
        if name.rpartition(":")[2] == "cellXfs":
            depth["cellXfs"] = False

    with archive.open(path) as stream:
        _parse(stream, start=start, end=end)
    dates, durations = set(), set()
    for index, format_id in enumerate(formats):
        code = custom.get(format_id) if format_id in custom else builtin_format_code(format_id)
        if code and is_date_format(code):
            dates.add(index)
        if code and is_timedelta_format(code):
            durations.add(index)
    return dates, durations
