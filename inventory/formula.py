"""Quantity formulas written by operations managers, e.g. `on_hand - open + incoming_30d * 0.5`.

A tokenizer and a recursive-descent parser build a small tree of our own node types; evaluation walks that
tree. Nothing here hands user text to `eval`, `compile` or `ast`: the only things a formula can contain are
numbers, the variables in `VARIABLES` (plus `incoming_<N>d`), `+ - * /`, parentheses and `min`, `max`,
`floor`. Anything else is refused with its position (1-based) and the reason, when the formula is saved.

Run-time rules (documented in docs/inventory.md): a division by zero gives 0; every result is bounded to
±`BOUND`; the quantity sent is the result rounded down to a whole unit.
"""

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

MAX_LENGTH = 500
MAX_DEPTH = 30
MAX_NUMBER = 1_000_000_000
BOUND = 1e12
MAX_INCOMING_DAYS = 3650

VARIABLES = {
    "available": "available to sell (ATS)",
    "on_hand": "on hand",
    "allocated": "allocated to open orders",
    "open": "same as allocated",
    "incoming": "all incoming supply (purchase orders)",
    "incoming_30d": "incoming supply expected within 30 days (any N: incoming_7d, incoming_60d, …)",
}
FUNCTIONS = {"min": (2, 10), "max": (2, 10), "floor": (1, 1)}
INCOMING_WITHIN = re.compile(r"incoming_(\d{1,4})d")
_TOKEN = re.compile(r"([0-9]+(?:\.[0-9]+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/(),])")


class FormulaError(ValueError):
    """A formula that cannot run: the reason and the 1-based position it refers to."""

    def __init__(self, reason: str, position: int):
        self.reason, self.position = reason, position
        super().__init__(f"{reason} (at position {position})")


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Neg:
    operand: "Node"


@dataclass(frozen=True)
class BinOp:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Node", ...]


Node = Num | Var | Neg | BinOp | Call


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    position: int


def incoming_days(name: str) -> int | None:
    """N for a variable named `incoming_<N>d`, else None."""
    match = INCOMING_WITHIN.fullmatch(name)
    return int(match.group(1)) if match else None


def is_variable(name: str) -> bool:
    days = incoming_days(name)
    return name in VARIABLES or (days is not None and 1 <= days <= MAX_INCOMING_DAYS)


def tokenize(text: str) -> list[Token]:
    """The formula's tokens; FormulaError at the first character that cannot start one."""
    tokens: list[Token] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        match = _TOKEN.match(text, index)
        if match is None:
            raise FormulaError(_bad_character(text, index, tokens), index + 1)
        number, name, op = match.groups()
        if op == "**":
            raise FormulaError("powers ('**') are not allowed", index + 1)
        if name and "__" in name:
            raise FormulaError(f"names with double underscores are not allowed: {name!r}", index + 1)
        kind = "num" if number else "name" if name else "op"
        tokens.append(Token(kind, match.group(0), index + 1))
        index = match.end()
        if number and index < len(text) and (text[index].isalpha() or text[index] in "_."):
            raise FormulaError("write numbers as plain digits, like 2 or 0.5", index + 1)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _bad_character(text: str, index: int, tokens: list[Token]) -> str:
    char = text[index]
    if char == "." and tokens and (tokens[-1].kind == "name" or tokens[-1].text == ")"):
        return "attribute access ('.') is not allowed"
    if char in "[]":
        return "indexing ('[ ]') is not allowed"
    if char in "'\"":
        return "text in quotes is not allowed"
    return f"unexpected character {char!r}"


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.expression()
        if self.token.kind != "end":
            raise FormulaError(self._unexpected(self.token), self.token.position)
        return node

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError("the formula is nested too deeply", self.token.position)
        node = self.term()
        while self.token.text in ("+", "-"):
            op = self.take().text
            node = BinOp(op, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.token.text in ("*", "/"):
            op_token = self.take()
            right = self.unary()
            if op_token.text == "/" and isinstance(right, Num) and right.value == 0:
                raise FormulaError("division by zero", op_token.position)
            node = BinOp(op_token.text, node, right)
        return node

    def unary(self) -> Node:
        if self.token.text in ("-", "+"):
            sign = self.take().text
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FormulaError("the formula is nested too deeply", self.token.position)
            operand = self.unary()
            self.depth -= 1
            return Neg(operand) if sign == "-" else operand
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return self.number(token)
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            node = self.expression()
            self.expect_close(token)
            return node
        self.index -= 1
        raise FormulaError(self._unexpected(token, wanted="a number, a name or '('"), token.position)

    def number(self, token: Token) -> Num:
        integer_part = token.text.split(".")[0]
        if len(integer_part) > 10 or float(token.text) > MAX_NUMBER:
            raise FormulaError(f"number too large (at most {MAX_NUMBER:,})", token.position)
        return Num(float(token.text))

    def name(self, token: Token) -> Node:
        if token.text in FUNCTIONS:
            return self.call(token)
        if self.token.text == "(":
            raise FormulaError(
                f"{token.text!r} is not a function; only min, max and floor can be called", token.position
            )
        if not is_variable(token.text):
            known = ", ".join([*VARIABLES, "incoming_<N>d"])
            raise FormulaError(f"unknown name {token.text!r}; use one of: {known}", token.position)
        return Var(token.text)

    def call(self, token: Token) -> Call:
        if self.token.text != "(":
            raise FormulaError(f"{token.text!r} must be called, like {token.text}(…)", token.position)
        opening = self.take()
        args = [self.expression()]
        while self.token.text == ",":
            self.take()
            args.append(self.expression())
        self.expect_close(opening)
        low, high = FUNCTIONS[token.text]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise FormulaError(f"{token.text}() takes {wanted} argument(s), got {len(args)}", token.position)
        return Call(token.text, tuple(args))

    def expect_close(self, opening: Token) -> None:
        if self.token.text == ")":
            self.take()
            return
        if self.token.kind == "end":
            raise FormulaError(f"missing ')' for the '(' at position {opening.position}", self.token.position)
        raise FormulaError(self._unexpected(self.token, wanted="')'"), self.token.position)

    def _unexpected(self, token: Token, wanted: str = "an operator") -> str:
        if token.kind == "end":
            return f"the formula ends too early; expected {wanted}"
        if token.text == ")":
            return (
                "unexpected ')' without a matching '('"
                if wanted == "an operator"
                else f"unexpected ')'; expected {wanted}"
            )
        if token.text == "(":
            return "unexpected '('; only min, max and floor can be called"
        return f"unexpected {token.text!r}; expected {wanted}"


@dataclass(frozen=True)
class Formula:
    """A parsed formula: evaluate it for one set of values, or for whole columns at once."""

    text: str
    tree: Node

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(_names(self.tree))

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value for one row of variables (missing variables count as 0)."""
        return _bounded(_scalar(self.tree, values))

    def evaluate_columns(self, columns: Mapping[str, Sequence[float]], length: int) -> list[float]:
        """The formula's value for every row of equally long columns, one operation per node over the column."""
        result = _column(self.tree, columns, length)
        if not isinstance(result, list):
            return [_bounded(result)] * length
        return list(map(_bounded, result))


def parse(text: str) -> Formula:
    """A Formula, or FormulaError with the position and reason of the first problem."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is too long ({len(text)} characters; at most {MAX_LENGTH})", MAX_LENGTH + 1)
    if not text.strip():
        raise FormulaError("the formula is empty", 1)
    return Formula(text, _Parser(text).parse())


def _names(node: Node) -> list[str]:
    if isinstance(node, Var):
        return [node.name]
    if isinstance(node, Neg):
        return _names(node.operand)
    if isinstance(node, BinOp):
        return _names(node.left) + _names(node.right)
    if isinstance(node, Call):
        return [name for arg in node.args for name in _names(arg)]
    return []


def _divide(a: float, b: float) -> float:
    return a / b if b else 0.0


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _bounded(x: float) -> float:
    if math.isnan(x):
        return 0.0
    return max(-BOUND, min(BOUND, x))


_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
}
_FUNCS: dict[str, Callable[..., float]] = {"min": min, "max": max, "floor": _floor}


def _scalar(node: Node, values: Mapping[str, float]) -> float:
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var):
        return float(values.get(node.name, 0))
    if isinstance(node, Neg):
        return -_scalar(node.operand, values)
    if isinstance(node, BinOp):
        return _OPS[node.op](_scalar(node.left, values), _scalar(node.right, values))
    return _FUNCS[node.func](*(_scalar(arg, values) for arg in node.args))


def _column(node: Node, columns: Mapping[str, Sequence[float]], length: int) -> list[float] | float:
    """A list for a node that depends on a variable, a plain float for a constant sub-tree."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Var):
        column = columns.get(node.name)
        return list(column) if column is not None else 0.0
    if isinstance(node, Neg):
        operand = _column(node.operand, columns, length)
        return list(map(operator.neg, operand)) if isinstance(operand, list) else -operand
    if isinstance(node, BinOp):
        left, right = _column(node.left, columns, length), _column(node.right, columns, length)
        return _apply(_OPS[node.op], [left, right], length)
    args = [_column(arg, columns, length) for arg in node.args]
    return _apply(_FUNCS[node.func], args, length)


def _apply(func: Callable[..., float], args: list[list[float] | float], length: int) -> list[float] | float:
    if not any(isinstance(arg, list) for arg in args):
        return func(*args)
    # `map` runs the C-level operator over whole columns; constants are repeated to the column's length.
    return list(map(func, *(arg if isinstance(arg, list) else [arg] * length for arg in args)))
