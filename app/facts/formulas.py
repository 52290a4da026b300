"""Derived values: formulas over other observations, evaluated without `eval`.

A formula names its inputs by observation key in braces, e.g.
`{changzhi-high-tech-enterprises} - {changzhi-high-tech-enterprises-added}`; only numbers,
+ - * / and parentheses are allowed.
"""

import ast
import operator
import re
from collections.abc import Callable, Mapping

_REFERENCE = re.compile(r"\{([a-z0-9][a-z0-9-]*)\}")
_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def formula_inputs(formula: str) -> list[str]:
    return _REFERENCE.findall(formula)


def evaluate(formula: str, values: Mapping[str, float]) -> float:
    """Evaluate `formula` with each `{key}` replaced by `values[key]`."""
    names: dict[str, float] = {}

    def substitute(match: re.Match[str]) -> str:
        name = f"v{len(names)}"
        names[name] = values[match.group(1)]
        return name

    expression = _REFERENCE.sub(substitute, " ".join(formula.split()))
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"formula is not arithmetic: {formula!r}") from exc
    return _evaluate_node(tree.body, names)


def _evaluate_node(node: ast.expr, names: Mapping[str, float]) -> float:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _evaluate_node(node.left, names)
        right = _evaluate_node(node.right, names)
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate_node(node.operand, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    raise ValueError(f"formula may use only numbers, inputs and + - * /, not {ast.dump(node)}")
