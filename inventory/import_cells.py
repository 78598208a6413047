"""Cells of the stock and supply spreadsheets, read strictly: every problem is a ValueError whose text a person
can act on ("'1.5' is not a whole number"), which django-import-export shows beside the row and its column.
Nothing is guessed: a fraction is not rounded, a number too large for the column is refused before the database
would refuse the whole batch, and a NUL or other control character is refused before it reaches a query
(PostgreSQL cannot store NUL in text)."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from import_export import widgets

from catalog.spreadsheets import cell_neutralise, cell_restore

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer, the narrowest of the databases we run on
WHOLE = re.compile(r"[+-]?\d+(?:\.0*)?")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def control_free(text: str) -> str:
    """The text, or a ValueError naming the first control character and where it is."""
    found = CONTROL.search(text)
    if found:
        char = found.group()
        name = "NUL" if char == "\x00" else f"U+{ord(char):04X}"
        raise ValueError(f"contains a control character ({name}) at position {found.start() + 1}: remove it")
    return text


def cell_str(value: Any) -> str:
    """A cell as stripped text, refused if it holds a control character."""
    return control_free("" if value is None else str(value).strip())


class Text(widgets.CharWidget):
    """Free text (a purchase order number): formula-neutralised on export, restored and length-checked on
    import."""

    def __init__(self, max_length: int):
        super().__init__()
        self.max_length = max_length

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = cell_restore(cell_str(value))
        if len(text) > self.max_length:
            raise ValueError(f"is {len(text)} characters long; at most {self.max_length} fit")
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return cell_neutralise(str(super().render(value, obj, **kwargs) or ""))


class Quantity(widgets.IntegerWidget):
    """A whole number of units (an XLSX number such as 12.0 counts as whole), within the column's range."""

    def __init__(self, minimum: int = INT_MIN):
        super().__init__()
        self.minimum = minimum

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # an XLSX number
        text = "" if isinstance(value, bool) else cell_str(value)
        if isinstance(value, bool) or (text and not WHOLE.fullmatch(text)):
            raise ValueError(f"{text or value!r} is not a whole number")
        if not text:
            raise ValueError("is empty: a whole number is needed")
        number = Decimal(text)
        if not self.minimum <= number <= INT_MAX:
            low = "0" if self.minimum == 0 else f"{self.minimum:,}"
            raise ValueError(f"{text} is out of range: it must be between {low} and {INT_MAX:,}")
        return int(number)


class When(widgets.Widget):
    """A date, or a date and time (local time unless it says otherwise), in ISO form: 2026-11-01 08:00:00."""

    def __init__(self, kind: type[date] | type[datetime]):
        super().__init__()
        self.kind = kind
        self.date = widgets.DateTimeWidget() if kind is datetime else widgets.DateWidget()

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, datetime):
            return self._aware(value) if self.kind is datetime else value.date()
        if isinstance(value, date):
            return value if self.kind is date else self._aware(datetime.combine(value, datetime.min.time()))
        text = cell_str(value)
        if not text:
            return None
        for fmt in DATETIME_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            if self.kind is datetime:
                return self._aware(parsed)
            if parsed.time() == datetime.min.time():  # a spreadsheet's date cell reads as midnight
                return parsed.date()
        example = "2026-11-01 08:00:00" if self.kind is datetime else "2026-11-01"
        raise ValueError(f"{text!r} is not a {'date and time' if self.kind is datetime else 'date'} like {example}")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return self.date.render(value, obj, **kwargs)

    @staticmethod
    def _aware(moment: datetime) -> datetime:
        return timezone.make_aware(moment) if settings.USE_TZ and timezone.is_naive(moment) else moment


class PrefetchedKey(widgets.ForeignKeyWidget):
    """A foreign key by a natural key, resolved from a dictionary the resource fills once per file."""

    def __init__(self, model: type, field: str):
        super().__init__(model, field)
        self.known: dict[str, Any] = {}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        key = cell_restore(cell_str(value))
        if not key:
            raise ValueError("is empty")
        if key not in self.known:
            raise ValueError(f"no {self.model._meta.verbose_name} with {self.field} {key!r}")
        return self.known[key]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        return cell_neutralise(str(super().render(value, obj, **kwargs) or ""))

    def prefetch(self, keys: set[Any], chunk: int) -> None:
        """Look up every key of the file, a chunk at a time; keys a row would refuse anyway are not asked for."""
        wanted = sorted({cell_restore(str(k).strip()) for k in keys if k is not None and not CONTROL.search(str(k))})
        self.known = {}
        for start in range(0, len(wanted), chunk):
            found = self.model.objects.filter(**{f"{self.field}__in": wanted[start : start + chunk]})
            self.known.update({getattr(o, self.field): o for o in found})
