"""inventory/formula.py: the safe evaluator. No database needed."""

import pytest

from inventory.formula import BOUND, MAX_LENGTH, FormulaError, parse

VALUES = {"available": 7, "on_hand": 10, "allocated": 3, "open": 3, "incoming": 40, "incoming_30d": 12}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("available - 2", 5),
        ("on_hand - open + incoming_30d * 0.5", 13),
        ("min(available, 4)", 4),
        ("max(available, on_hand, 12)", 12),
        ("floor(on_hand / 3)", 3),
        ("-(-available)", 7),
        ("(on_hand - allocated) * 2 / 4", 3.5),
        ("  available\t+\n1 ", 8),
        ("incoming", 40),
    ],
)
def test_valid_formulas_evaluate(text, expected):
    assert parse(text).evaluate(VALUES) == expected


def test_incoming_within_any_number_of_days_is_a_variable():
    formula = parse("available + incoming_7d + incoming_60d")
    assert formula.variables == {"available", "incoming_7d", "incoming_60d"}
    assert formula.evaluate({"available": 1, "incoming_7d": 2, "incoming_60d": 3}) == 6


def test_column_evaluation_matches_row_evaluation():
    formula = parse("max(on_hand - open, 0) + floor(incoming_30d / 2) - 1")
    columns = {"on_hand": [10, 0, 5], "open": [3, 4, 5], "incoming_30d": [7, 0, 9]}
    rows = [{name: column[i] for name, column in columns.items()} for i in range(3)]
    assert formula.evaluate_columns(columns, 3) == [formula.evaluate(row) for row in rows]


def test_constant_formula_fills_every_row():
    assert parse("2 * 3").evaluate_columns({}, 4) == [6, 6, 6, 6]


def test_division_by_a_variable_that_is_zero_gives_zero():
    formula = parse("on_hand / available")
    assert formula.evaluate({"on_hand": 10, "available": 0}) == 0
    assert formula.evaluate_columns({"on_hand": [10, 10], "available": [0, 5]}, 2) == [0, 2]


def test_huge_intermediate_values_are_bounded():
    text = " * ".join(["1000000000"] * 36)  # 1e324: beyond a float, inside the length limit
    assert parse(text).evaluate({}) == BOUND
    assert parse(f"-{text}").evaluate_columns({}, 2) == [-BOUND, -BOUND]
    assert parse(f"{text} * 0").evaluate({}) == 0  # inf * 0 is NaN: a clean 0, never an exception
    assert parse(f"floor({text})").evaluate({}) == BOUND


# The injection corpus: each is refused when parsed, with a position and a reason a person can read.
REFUSED = [
    ("available.__class__", 10, "attribute access"),
    ("on_hand.real", 8, "attribute access"),
    ("(available).__class__.__bases__", 12, "attribute access"),
    ("__import__('os').system('id')", 1, "double underscores"),
    ("available + __builtins__", 13, "double underscores"),
    ("open(available)", 1, "not a function"),
    ("eval(1)", 1, "not a function"),
    ("open('/etc/passwd')", 6, "quotes"),
    ("exec", 1, "unknown name"),
    ("lambda: 1", 7, "unexpected character ':'"),
    ("globals", 1, "unknown name"),
    ("min(available, 1)(2)", 18, "unexpected '('"),
    ("9 ** 9 ** 9", 3, "powers"),
    ("available ** 99999", 11, "powers"),
    ("1e999", 2, "plain digits"),
    ("99999999999", 1, "number too large"),
    ("available / 0", 11, "division by zero"),
    ("available / (0)", 11, "division by zero"),
    ("stock", 1, "unknown name 'stock'"),
    ("(available + 1", 15, "missing ')'"),
    ("available + 1)", 14, "without a matching"),
    ("min(available", 14, "missing ')'"),
    ("min(available)", 1, "takes 2 to 10"),
    ("floor(1, 2)", 1, "takes 1"),
    ("floor", 1, "must be called"),
    ("available available", 11, "expected an operator"),
    ("available +", 12, "ends too early"),
    ("", 1, "empty"),
    ("   ", 1, "empty"),
    ("available[0]", 10, "indexing"),
    ("'text'", 1, "quotes"),
    ("available; 1", 10, "unexpected character ';'"),
    ("available if 1 else 2", 11, "expected an operator"),
    ("x = 1", 3, "unexpected character '='"),
    ("x + 1", 1, "unknown name 'x'"),
    ("available @ 2", 11, "unexpected character '@'"),
    ("\uff41vailable", 1, "unexpected character"),
    ("(" * 40 + "1" + ")" * 40, 31, "nested too deeply"),
    ("-" * 40 + "1", 31, "nested too deeply"),
    ("available + " * 50 + "1", MAX_LENGTH + 1, "too long"),
]


@pytest.mark.parametrize(("text", "position", "reason"), REFUSED)
def test_injection_corpus_is_refused_with_position_and_reason(text, position, reason):
    with pytest.raises(FormulaError) as caught:
        parse(text)
    assert caught.value.position == position
    assert reason in caught.value.reason
    assert f"at position {position}" in str(caught.value)
