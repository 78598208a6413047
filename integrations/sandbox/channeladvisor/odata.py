"""The OData v4 query options ChannelAdvisor's REST API takes, over plain dicts: a `$filter` parser
(eq ne gt ge lt le, and/or/not, parentheses, `Path/any(x: …)` lambdas; quoted strings, quoted or bare
dates, numbers, true/false/null), `$expand`/`$select` trees, `$orderby`, and the paged list envelope.

String comparisons ignore case, as ChannelAdvisor's search does (clients match SKUs exactly themselves).
"""

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from integrations.sandbox.server import HttpError, Request

Predicate = Callable[[dict, dict], bool]
COMPARISONS = {"eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt}
COMPARISONS["le"] = operator.le
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
    |(?P<date>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<punct>[(),:])
    |(?P<name>[A-Za-z_$][A-Za-z0-9_/]*)
    )""",
    re.X,
)
_MISSING = object()
LINK_SAFE = "$,()'/:"
LITERALS = {"true": True, "false": False, "null": None}


class ODataError(HttpError):
    def __init__(self, message: str):
        super().__init__(400, message)


def parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# $filter


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ODataError(f"The query specified in the URI is not valid: unexpected {text[pos : pos + 20]!r}.")
        kind = match.lastgroup or ""  # every alternative of _TOKEN is a named group
        raw = match.group(kind)
        value: Any = raw
        if kind == "string":
            value = raw[1:-1].replace("''", "'")
        elif kind == "date":
            value = parse_date(raw)
        elif kind == "number":
            value = float(raw) if "." in raw else int(raw)
        tokens.append((kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens, self.pos = tokenize(text), 0

    def peek(self, offset: int = 0) -> tuple[str, Any] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self, kind: str | None = None, value: Any = _MISSING) -> tuple[str, Any]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value is not _MISSING and token[1] != value):
            raise ODataError(f"The query specified in the URI is not valid near token {self.pos + 1}.")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "name" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise ODataError(f"The query specified in the URI is not valid near token {self.pos + 1}.")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else lambda e, s: any(p(e, s) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.keyword("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else lambda e, s: all(p(e, s) for p in parts)

    def unary(self) -> Predicate:
        if self.keyword("not"):
            inner = self.unary()
            return lambda e, s: not inner(e, s)
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.or_expr()
            self.take("punct", ")")
            return inner
        token = self.peek()
        if (
            token
            and token[0] == "name"
            and re.search(r"/(any|all)$", token[1], re.I)
            and self.peek(1) == ("punct", "(")
        ):
            return self.lambda_expr()
        return self.comparison()

    def lambda_expr(self) -> Predicate:
        path, _, quantifier = self.take("name")[1].rpartition("/")
        self.take("punct", "(")
        variable = self.take("name")[1]
        self.take("punct", ":")
        inner = self.or_expr()
        self.take("punct", ")")
        combine = any if quantifier.lower() == "any" else all

        def check(entity: dict, scope: dict) -> bool:
            rows = resolve(path, entity, scope) or []
            return combine(inner(entity, {**scope, variable: row}) for row in rows)

        return check

    def comparison(self) -> Predicate:
        left = self.operand()
        op = self.take("name")[1]
        if op.lower() not in COMPARISONS:
            raise ODataError(f"The operator {op!r} is not supported.")
        right = self.operand()
        compare = COMPARISONS[op.lower()]
        return lambda e, s: _compare(compare, left(e, s), right(e, s))

    def operand(self) -> Callable[[dict, dict], Any]:
        kind, value = self.take()
        if kind == "name":
            if value.lower() in LITERALS:
                constant = LITERALS[value.lower()]
                return lambda e, s: constant
            return lambda e, s: resolve(value, e, s)
        if kind == "punct":
            raise ODataError(f"The query specified in the URI is not valid near {value!r}.")
        return lambda e, s: value


def resolve(path: str, entity: dict, scope: dict) -> Any:
    first, *rest = path.split("/")
    current = scope[first] if first in scope else _member(entity, first)
    for name in rest:
        current = _member(current, name) if current is not None else None
    return current


def _member(obj: Any, name: str) -> Any:
    if not isinstance(obj, dict) or name not in obj:
        raise ODataError(f"Could not find a property named '{name}'.")
    return obj[name]


def _compare(compare: Callable, left: Any, right: Any) -> bool:
    left, right = _align(left, right)
    if left is None or right is None:
        if compare in (operator.eq, operator.ne):
            return compare(left, right)
        return False
    try:
        return bool(compare(left, right))
    except TypeError:
        return False


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, datetime) or isinstance(right, datetime):
        return (parse_date(left) if isinstance(left, str) else left), (
            parse_date(right) if isinstance(right, str) else right
        )
    if isinstance(left, str) and isinstance(right, str):
        left_date, right_date = parse_date(left), parse_date(right)
        if left_date and right_date:
            return left_date, right_date
        return left.casefold(), right.casefold()
    return left, right


def parse_filter(text: str | None) -> Predicate:
    if not text or not text.strip():
        return lambda e, s: True
    return _Parser(text).parse()


# $expand / $select


def parse_expand(text: str | None) -> dict[str, dict]:
    """`Items($expand=BundleComponents;$select=ID),Fulfillments` → {"Items": {"expand": {...}, "select": [...]}, ...}."""
    tree: dict[str, dict] = {}
    for part in _split_top(text or "", ","):
        name, _, options = part.partition("(")
        if options and not options.endswith(")"):
            raise ODataError(f"The $expand clause {part!r} is not valid.")
        expand, select = None, None
        for option in _split_top(options[:-1], ";"):
            key, _, value = option.partition("=")
            if key.strip() == "$expand":
                expand = parse_expand(value)
            elif key.strip() == "$select":
                select = parse_select(value)
        tree[name.strip()] = {"expand": expand or {}, "select": select}
    return tree


def parse_select(text: str | None) -> list[str] | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def _split_top(text: str, separator: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def shape(
    entity: dict,
    type_name: str,
    expand: dict,
    select: list[str] | None,
    *,
    limit: int | None = None,
    link: Callable[[str, int], str] | None = None,
) -> dict:
    """One entity as the API shows it: scalar fields (all or `$select`), plus the expanded collections, each
    cut at `limit` rows with a `<Name>@odata.nextLink` from `link(name, limit)` (as CA's list endpoints do)."""
    schema = NAVIGATION[type_name]
    for name in list(expand) + (select or []):
        if name not in entity and name not in schema:
            raise ODataError(f"Could not find a property named '{name}'.")
    out = {k: v for k, v in entity.items() if k not in schema and (select is None or k in select)}
    for name, options in expand.items():
        if name not in schema:
            raise ODataError(f"Property '{name}' is not a navigation property.")
        rows = [shape(row, schema[name], options["expand"], options["select"]) for row in entity.get(name) or []]
        if limit and link and len(rows) > limit:
            rows = rows[:limit]
            out[f"{name}@odata.nextLink"] = link(name, limit)
        out[name] = rows
    return out


NAVIGATION: dict[str, dict[str, str]] = {
    "Order": {
        "Items": "OrderItem",
        "Fulfillments": "Fulfillment",
        "Adjustments": "Leaf",
        "CustomFields": "Leaf",
        "OrderAttributes": "Leaf",
    },
    "OrderItem": {"BundleComponents": "Leaf", "FulfillmentItems": "Leaf", "Promotions": "Leaf", "Adjustments": "Leaf"},
    "Fulfillment": {"Items": "Leaf"},
    "Product": {"Attributes": "Leaf", "Images": "Leaf", "Labels": "Leaf", "DCQuantities": "Leaf"}
    | {"BundleComponents": "Leaf"},
    "Leaf": {},
}


# $orderby and the paged envelope


def order_rows(rows: list[dict], text: str | None) -> list[dict]:
    for clause in reversed(_split_top(text or "", ",")):
        name, _, direction = clause.partition(" ")
        if rows and name not in rows[0]:
            raise ODataError(f"Could not find a property named '{name}'.")
        rows = sorted(rows, key=_sort_key(name), reverse=direction.strip() == "desc")
    return rows


def _sort_key(name: str) -> Callable[[dict], tuple[bool, Any]]:
    """Sort by one property; rows without it go last when ascending."""
    return lambda row: (row.get(name) is None, row.get(name))


def page_size_for(request: Request, default: int) -> int:
    """The server's page size, lowered by a `Prefer: odata.maxpagesize=N` header."""
    match = re.search(r"odata\.maxpagesize=(\d+)", request.header("prefer"))
    return max(1, min(default, int(match.group(1)))) if match else default


def envelope(request: Request, context: str, rows: list[dict], page_size: int) -> dict:
    """One page of `rows` (already filtered and ordered) with `@odata.nextLink` when more remain."""
    skip = _int_option(request, "$skip", 0) or 0
    top = _int_option(request, "$top", None)
    end = len(rows) if top is None else min(len(rows), skip + top)
    size = page_size_for(request, page_size)
    body: dict[str, Any] = {"@odata.context": context}
    if (request.q("$count") or "").lower() == "true":
        body["@odata.count"] = len(rows)
    body["value"] = rows[skip : min(end, skip + size)]
    if skip + size < end:
        changes = {"$skip": str(skip + size)}
        if top is not None:
            changes["$top"] = str(top - size)
        body["@odata.nextLink"] = link_with(request, changes)
    return body


def link_with(request: Request, changes: dict[str, str]) -> str:
    """The request's own absolute URL with some query options replaced (an absolute nextLink, as CA sends)."""
    base = request.url.split("?", 1)[0]
    pairs = [(k, v) for k, values in request.query.items() if k not in changes for v in values]
    pairs += list(changes.items())
    return base + "?" + urlencode(pairs, quote_via=quote, safe=LINK_SAFE)


def _int_option(request: Request, name: str, default: int | None) -> int | None:
    value = request.q(name)
    if value is None:
        return default
    if not value.isdigit():
        raise ODataError(f"The value of {name} must be a non-negative integer.")
    return int(value)
