"""Assertions for the hidden tests, with messages that say what was expected and what came.

Messages never print expected values beyond what the visible tests show:
they name the shape, type or property that was wrong and, for numbers, the
largest difference.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeGuard

import numpy as np
import pytest
import torch

if TYPE_CHECKING:
    from ..submission.protocol import Submission


def fail(message: str) -> NoReturn:
    pytest.fail(message, pytrace=False)


def describe(value: object) -> str:
    """A short description of a value: its type, and shape and dtype for arrays."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:200]


def tensor(
    value: Any,
    what: str,
    shape: tuple | None = None,
    dtype: torch.dtype | None = None,
    finite: bool = True,
) -> torch.Tensor:
    """Check that ``value`` is a torch tensor (of ``shape`` and ``dtype``), finite; return it."""
    if type(value) is not torch.Tensor and not isinstance(value, torch.nn.Parameter):
        fail(f"{what} should be a torch.Tensor, got {describe(value)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what} should have shape {tuple(shape)}, got {tuple(value.shape)}")
    if dtype is not None and value.dtype != dtype:
        fail(f"{what} should have dtype {dtype}, got {value.dtype}")
    if finite and value.is_floating_point() and not torch.isfinite(value).all():
        bad = (~torch.isfinite(value)).sum().item()
        fail(f"{what} has {bad} NaN or infinite value(s); it should be finite")
    return value


def scalar(value: Any, what: str) -> torch.Tensor:
    """A 0-dimensional floating tensor (a loss)."""
    value = tensor(value, what)
    if value.dim() != 0:
        fail(
            f"{what} should be a scalar tensor (shape ()), got shape {tuple(value.shape)}; "
            "did you forget the mean over the batch?"
        )
    return value


def python_float(
    value: Any, what: str, low: float | None = None, high: float | None = None
) -> float:
    # STEPS.md: "a Python float" also accepts numpy.float64 (a float subclass).
    if type(value) not in (float, np.float64):
        fail(f"{what} should be a Python float, got {describe(value)} (hint: .item())")
    value = float(value)
    if value != value:
        fail(f"{what} is NaN")
    if (low is not None and value < low) or (high is not None and value > high):
        fail(f"{what} should lie in [{low}, {high}], got {value:.4g}")
    return value


def close(
    actual: torch.Tensor, expected: torch.Tensor, what: str, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    """``torch.testing.assert_close`` in float64, reporting the largest difference only."""
    actual = actual.detach().to("cpu", torch.float64)
    expected = expected.detach().to("cpu", torch.float64)
    if actual.shape != expected.shape:
        fail(f"{what} should have shape {tuple(expected.shape)}, got {tuple(actual.shape)}")
    try:
        torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=False)
    except AssertionError:
        diff = (actual - expected).abs()
        worst = diff.nan_to_num(float("inf")).max().item()
        fail(
            f"{what} is not close to the correct values: largest difference {worst:.3g} "
            f"(allowed about {atol:g} + {rtol:g} x |value|)"
        )


# --- "without X" -----------------------------------------------------------------------
#
# A step that teaches how X works forbids calling X. Two checks judge it, and either
# one failing loses the points:
# - the source (``uses``): the definition Python actually runs (the last binding of the
#   name), every module name, alias, lambda, class and helper it reaches, in its own
#   file and in the step files it imports; a name looked up by string that the check
#   cannot resolve (getattr with a computed name, vars(), __dict__, eval, importlib, ...)
#   counts as a use, and so does any name that could switch off the observer below;
# - the call (``written_without``): the torch functions the call reaches, recorded where
#   the submission runs (grader/authoring/observe.py), whatever name the code used for them.

# Every spelling of one library function: torch.X, F.X, Tensor.X, torch.special.X, the
# private torch._X and aten operators (leading underscores are dropped before the
# lookup), and the nn module that calls it. softmin(x) is softmax(-x).
# cross_entropy is log_softmax then nll_loss: -cross_entropy(x[n], k) is log_softmax(x)[n, k],
# cross_entropy(x, 0) + x[:, 0] is logsumexp, and on log-probabilities it is nll_loss.
_CROSS_ENTROPY = {"cross_entropy", "CrossEntropyLoss", "cross_entropy_loss"}
SPELLINGS = {
    # Attention is softmax(Q K^T) V: with V the identity it returns softmax itself.
    "softmax": {
        "softmax",
        "Softmax",
        "special_softmax",
        "softmin",
        "Softmin",
        "Softmax2d",
        "scaled_dot_product_attention",
        "scaled_dot_product_attention_math",
        "scaled_dot_product_flash_attention",
        "scaled_dot_product_flash_attention_for_cpu",
        "scaled_dot_product_efficient_attention",
        "scaled_dot_product_cudnn_attention",
        "scaled_dot_product_fused_attention_overrideable",
        "multi_head_attention_forward",
        "MultiheadAttention",
        "gumbel_softmax",
        *_CROSS_ENTROPY,
    },
    "log_softmax": {"log_softmax", "LogSoftmax", "special_log_softmax", *_CROSS_ENTROPY},
    # The last column of logcumsumexp is logsumexp.
    "logsumexp": {"logsumexp", "special_logsumexp", "logcumsumexp", *_CROSS_ENTROPY},
    "nll_loss": {
        *_CROSS_ENTROPY,
        "nll_loss",
        "NLLLoss",
        "NLLLoss2d",
        "nll_loss_nd",
        "nll_loss2d",
        "nll_loss_forward",
        "nll_loss2d_forward",
    },
    "cross_entropy": {"cross_entropy", "CrossEntropyLoss", "cross_entropy_loss"},
}

# Ways to reach a name from a string, or to build code at run time.
_DYNAMIC_BUILTINS = {
    "getattr",
    "vars",
    "globals",
    "locals",
    "eval",
    "exec",
    "compile",
    "__import__",
    "__builtins__",
    "breakpoint",
}
# (Attributes named like a builtin, e.g. model.eval(), are not lookups: builtins.eval is
# caught through the import of builtins.)
_DYNAMIC_ATTRIBUTES = {
    "getattr",
    "__import__",
    "__builtins__",
    "__dict__",
    "__getattribute__",
    "__getattr__",
    "__globals__",
    "__code__",
    "__closure__",
    "attrgetter",
    "methodcaller",
    "getattr_static",
    "getmembers",
    "getmembers_static",
    "import_module",
    "reload",
    "module_from_spec",
    "run_path",
    "run_module",
    "FunctionType",
    "CodeType",
    # TorchScript compiled from a string or loaded from bytes runs its torch calls
    # where the observer below cannot see them.
    "jit",
    "CompilationUnit",
    # a dotted name resolved from a string (pkgutil.resolve_name, pydoc.locate, a format field)
    "resolve_name",
    "locate",
    "get_field",
    # the observer is per thread: a call run on another thread is not recorded
    "Thread",
    "ThreadPoolExecutor",
    "ProcessPoolExecutor",
    "start_new_thread",
    "run_in_executor",
    "to_thread",
}
_DYNAMIC_MODULES = {
    "builtins",
    "importlib",
    "runpy",
    "pickle",
    "marshal",
    "dill",
    "cloudpickle",
    "ctypes",
    "jit",
    "pkgutil",
    "pydoc",
    "threading",
    "_thread",
    "concurrent",
    "multiprocessing",
    "asyncio",
}
# Names that reach (or could switch off) the mode that observes the call.
TAMPERING = {
    "overrides",
    "_C",
    "__torch_function__",
    "TorchFunctionMode",
    "_python_dispatch",
    "_disable_torch_function",
    "_disable_torch_function_impl",
    "DisableTorchFunction",
    "DisableTorchFunctionSubclass",
    "_pop_torch_function_stack",
    "_push_on_torch_function_stack",
    "_set_torch_function_mode",
}

_GENERIC_TAMPERING = {"_C", "overrides"}


def _canonical(identifier: str, names: set[str]) -> str | None:
    """The forbidden function among ``names`` that ``identifier`` spells, if any."""
    bare = identifier.lstrip("_")
    if bare in names:  # the name itself first: cross_entropy also spells log_softmax
        return bare
    for name in sorted(names):
        if bare in SPELLINGS.get(name, ()):
            return name
    return None


def _is_main_guard(stmt: ast.stmt) -> TypeGuard[ast.If]:
    """``if __name__ == "__main__":`` (its body does not run when the grader imports it)."""
    test = stmt.test if isinstance(stmt, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _stored_names(target: ast.AST) -> list[str]:
    return [
        n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]


def _patches(target: ast.AST) -> bool:
    """An assignment to an attribute or item of something (``torch.exp = ...``)."""
    return any(isinstance(n, (ast.Attribute, ast.Subscript)) for n in ast.walk(target))


class _Module:
    """One step file: what each module-level name is bound to, and what runs at import."""

    def __init__(self, step: str, source: str):
        self.step = step
        try:
            self.tree = ast.parse(source)
        except SyntaxError as exc:
            fail(f"{step}.py is not valid Python: {exc}")
        # name -> [(binding, conditional)], in source order; a binding is ("node", ast)
        # or ("import", module, name or None, level).
        self.bindings: dict[str, list[tuple[tuple, bool]]] = {}
        self.stars: list[tuple[str, int]] = []  # (module, level) of `from ... import *`
        self.import_time: list[ast.AST] = []  # code run at import (outside function bodies)
        self.patches: list[ast.AST] = []  # import-time assignments to attributes, setattr()
        self._collect(self.tree.body, conditional=False)
        for fn in ast.walk(self.tree):  # `global name` in a function rebinds a module name
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Global):
                        for name in node.names:
                            self._bind(name, ("node", fn), True)

    def _bind(self, name: str, binding: tuple, conditional: bool) -> None:
        self.bindings.setdefault(name, []).append((binding, conditional))

    def _collect(self, body: list[ast.stmt], conditional: bool) -> None:
        for stmt in body:
            if _is_main_guard(stmt):
                self._collect(stmt.orelse, True)
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._bind(stmt.name, ("node", stmt), conditional)
                args = stmt.args
                self.import_time += [*stmt.decorator_list, *args.defaults]
                self.import_time += [d for d in args.kw_defaults if d is not None]
            elif isinstance(stmt, ast.ClassDef):
                self._bind(stmt.name, ("node", stmt), conditional)
                self.import_time.append(stmt)
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    self._bind(bound, ("import", alias.name, None, 0), conditional)
            elif isinstance(stmt, ast.ImportFrom):
                for alias in stmt.names:
                    binding = ("import", stmt.module or "", alias.name, stmt.level)
                    if alias.name == "*":
                        self.stars.append((stmt.module or "", stmt.level))
                    else:
                        self._bind(alias.asname or alias.name, binding, conditional)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = stmt.value if stmt.value is not None else ast.Constant(None)
                for target in targets:
                    for name in _stored_names(target):
                        # x += ... keeps the old binding: a conditional one keeps both
                        self._bind(
                            name, ("node", value), conditional or isinstance(stmt, ast.AugAssign)
                        )
                    if _patches(target):
                        self.patches.append(stmt)
                self.import_time.append(stmt)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                for name in _stored_names(stmt.target):
                    self._bind(name, ("node", stmt.iter), True)
                self.import_time.append(stmt.iter)
                self._collect(stmt.body + stmt.orelse, True)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        for name in _stored_names(item.optional_vars):
                            self._bind(name, ("node", item.context_expr), True)
                    self.import_time.append(item.context_expr)
                self._collect(stmt.body, conditional)
            elif isinstance(stmt, (ast.If, ast.While)):
                self.import_time.append(stmt.test)
                self._collect(stmt.body + stmt.orelse, True)
            elif isinstance(stmt, (ast.Try, ast.TryStar)):
                for handler in stmt.handlers:
                    if handler.type is not None:
                        self.import_time.append(handler.type)
                    self._collect(handler.body, True)
                self._collect(stmt.body + stmt.orelse + stmt.finalbody, True)
            elif isinstance(stmt, ast.Match):
                self.import_time.append(stmt.subject)
                for case in stmt.cases:
                    self._collect(case.body, True)
            else:
                self.import_time.append(stmt)
                if isinstance(stmt, ast.Expr) and _is_call_to(stmt.value, "setattr"):
                    self.patches.append(stmt)
        for node in list(self.import_time):  # walrus at module level binds a name too
            for sub in ast.walk(node):
                if isinstance(sub, ast.NamedExpr):
                    self._bind(sub.target.id, ("node", sub.value), True)

    def effective(self, name: str) -> list[tuple]:
        """The bindings of ``name`` Python may use after the import: the last unconditional
        one and every conditional one after it."""
        entries = self.bindings.get(name, [])
        start = max((i for i, (_, cond) in enumerate(entries) if not cond), default=0)
        return [binding for binding, _ in entries[start:]]


def _is_call_to(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == name)
        or (isinstance(node.func, ast.Attribute) and node.func.attr == name)
    )


def _fold(node: ast.AST, module: _Module | None = None, depth: int = 0) -> str | None:
    """The string an expression builds from constants ("soft" + "max", f-strings,
    "".join([...]), a module constant), or None when it cannot be known here."""
    if depth > 20:
        return None
    again = lambda n: _fold(n, module, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = again(node.left), again(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [again(v.value if isinstance(v, ast.FormattedValue) else v) for v in node.values]
        known = [p for p in parts if p is not None]
        return None if len(known) != len(parts) else "".join(known)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and len(node.args) == 1
        and isinstance(node.args[0], (ast.List, ast.Tuple))
    ):
        sep = again(node.func.value)
        parts = [again(e) for e in node.args[0].elts]
        known = [p for p in parts if p is not None]
        return None if sep is None or len(known) != len(parts) else sep.join(known)
    if isinstance(node, ast.Name) and module is not None:
        bindings = module.effective(node.id)
        if len(bindings) == 1 and bindings[0][0] == "node":
            return again(bindings[0][1])
    return None


class _Finding:
    def __init__(self, kind: str, name: str, module: _Module, node: ast.AST | None):
        self.kind, self.name = kind, name  # kind: "uses", "dynamic" or "tampering"
        line = getattr(node, "lineno", None)
        text = ""
        if node is not None:
            try:
                text = ast.unparse(node).splitlines()[0][:60]
            except Exception:  # noqa: BLE001 - a node unparse cannot print: no excerpt
                text = ""
        self.where = f"{text} ({module.step}.py line {line})" if line else f"{module.step}.py"

    def __str__(self) -> str:
        return self.where


class _Analysis:
    """What a function reaches, across the submission's step files."""

    def __init__(self, sources: dict[str, str], names: set[str]):
        self.sources, self.names = sources, set(names)
        self.modules: dict[str, _Module] = {}
        self.findings: list[_Finding] = []
        self._seen: set = set()

    def module(self, step: str) -> _Module | None:
        if step not in self.modules:
            if step not in self.sources:
                return None
            mod = self.modules[step] = _Module(step, self.sources[step])
            self._tampering(mod)
            for node in mod.patches:  # import-time changes to torch count as uses
                self.walk(mod, node, full=True)
            for node in mod.import_time:
                self.walk(mod, node, full=False)
            for bindings in mod.bindings.values():  # the steps it imports run at its import
                for binding, _ in bindings:
                    if binding[0] == "import" and binding[3] > 0:
                        self.module(binding[1] or binding[2])
            for module_name, level in mod.stars:
                if level > 0:
                    self.module(module_name)
        return self.modules[step]

    def found(self, kind: str, name: str, mod: _Module, node: ast.AST | None) -> None:
        self.findings.append(_Finding(kind, name, mod, node))

    def _tampering(self, mod: _Module) -> None:
        for node in ast.walk(mod.tree):
            # A student's own name or string "_C" or "overrides" is not torch's: those two
            # count as attributes (torch._C) and in imports only.
            plain = isinstance(node, (ast.Name, ast.Constant, ast.FunctionDef, ast.ClassDef))
            for ident in _identifiers(node):
                if ident in TAMPERING and not (plain and ident in _GENERIC_TAMPERING):
                    self.found("tampering", ident, mod, node)

    def follow(self, mod: _Module, name: str, full: bool) -> None:
        for binding in mod.effective(name):
            self.visit(mod, binding, full)
        if not mod.bindings.get(name):
            for module_name, level in mod.stars:
                self.visit(mod, ("import", module_name, name, level), full)

    def visit(self, mod: _Module, binding: tuple, full: bool) -> None:
        if binding[0] == "node":
            self.walk(mod, binding[1], full)
            return
        _, module_name, name, level = binding
        if level > 0:  # a relative import: another step file of the submission
            if module_name and name is not None:
                other = self.module(module_name)
                if other is not None:
                    self.follow(other, name, full)
            return
        for part in module_name.split("."):
            if part in _DYNAMIC_MODULES:
                self.found("dynamic", part, mod, None)
        if name is not None:
            self.identifier(mod, name, None, full)

    def step_alias(self, mod: _Module, name: str) -> _Module | None:
        """The step module a name is bound to (``from . import step03_normalization as s3``)."""
        for binding in mod.effective(name):
            if binding[0] == "import" and binding[3] > 0 and not binding[1] and binding[2]:
                return self.module(binding[2])
        return None

    def identifier(self, mod: _Module, ident: str, node: ast.AST | None, full: bool) -> None:
        if full and (used := _canonical(ident, self.names)) is not None:
            self.found("uses", used, mod, node)
        if ident in _DYNAMIC_ATTRIBUTES:
            self.found("dynamic", ident, mod, node)

    def walk(self, mod: _Module, root: ast.AST, full: bool) -> None:
        key = (mod.step, id(root), full)
        if key in self._seen:
            return
        self._seen.add(key)
        resolved: set[int] = set()  # getattr calls read as attribute accesses
        for node in ast.walk(root):
            if isinstance(node, ast.Call) and _is_call_to(node, "getattr") and len(node.args) >= 2:
                resolved.add(id(node.func))
                attr = _fold(node.args[1], mod)
                if attr is None:
                    self.found("dynamic", "getattr", mod, node)
                    continue
                base = node.args[0]
                other = self.step_alias(mod, base.id) if isinstance(base, ast.Name) else None
                if other is not None:
                    self.follow(other, attr, full)
                else:
                    self.identifier(mod, attr, node, full)
                    if attr in TAMPERING:
                        self.found("tampering", attr, mod, node)
            elif isinstance(node, ast.Attribute) and id(node) not in resolved:
                base = node.value
                other = self.step_alias(mod, base.id) if isinstance(base, ast.Name) else None
                if other is not None:
                    self.follow(other, node.attr, full)
                    continue
                self.identifier(mod, node.attr, node, full)
                if node.attr == "modules" and isinstance(base, ast.Name) and base.id == "sys":
                    self.found("dynamic", "sys.modules", mod, node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if id(node) in resolved:
                    continue
                if mod.bindings.get(node.id):
                    self.follow(mod, node.id, full)
                elif node.id in _DYNAMIC_BUILTINS:
                    self.found("dynamic", node.id, mod, node)
                elif mod.stars:
                    self.follow(mod, node.id, full)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):  # an import inside a function
                for alias in node.names:
                    if isinstance(node, ast.Import):
                        self.visit(mod, ("import", alias.name, None, 0), full)
                    elif alias.name != "*":
                        binding = ("import", node.module or "", alias.name, node.level)
                        if node.level > 0 and not node.module:
                            self.module(alias.name)
                        else:
                            self.visit(mod, binding, full)


def _identifiers(node: ast.AST) -> list[str]:
    """The names a node spells: a name, an attribute, an import, a constant string."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        parts = (node.module or "").split(".") if isinstance(node, ast.ImportFrom) else []
        for alias in node.names:
            parts += alias.name.split(".")
        return parts
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 64:
        return [node.value]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    return []


def _as_sources(source: str | dict[str, str], step: str | None) -> tuple[dict[str, str], str]:
    if isinstance(source, str):
        step = step or "the_step"
        return {step: source}, step
    if step is None:
        raise ValueError("give the step whose function is checked")
    return dict(source), step


def findings(
    source: str | dict[str, str], function: str, names: set[str], step: str | None = None
) -> list[_Finding]:
    """Everything that makes ``function`` (as Python runs it) use one of ``names``.

    ``source`` is a step's text, or ``{step: text}`` of the submission's step files with
    ``step`` naming the one that defines ``function`` (relative imports are followed)."""
    sources, step = _as_sources(source, step)
    analysis = _Analysis(sources, names)
    try:
        mod = analysis.module(step)
        if mod is not None:
            analysis.follow(mod, function, full=True)
    except RecursionError:
        fail(f"{function}: its names lead through too many aliases for the check to follow")
    return analysis.findings


def uses(
    source: str | dict[str, str], function: str, names: set[str], step: str | None = None
) -> list[str]:
    """What makes ``function`` use one of ``names``: the names it reaches (``softmax``),
    the string lookups the check cannot follow (``getattr``, ``vars``, ...) and the names
    that reach the call observer (``_C``, ``overrides``, ...)."""
    return sorted({f.name for f in findings(source, function, names, step)})


def without(
    source: str | dict[str, str],
    function: str,
    names: set[str],
    lesson: str,
    step: str | None = None,
    rule: str | None = None,
) -> None:
    """Fail when ``function`` uses any of ``names``; ``lesson`` says what to do instead,
    ``rule`` how STEPS.md words what is forbidden (default: the names)."""
    found = findings(source, function, names, step)
    rule = rule or " / ".join(sorted(names))
    used = [f for f in found if f.kind == "uses"]
    if used:
        what = ", ".join(dict.fromkeys(str(f) for f in used))
        fail(f"{function} must be written without {rule}; it uses {what}: {lesson}")
    dynamic = [f for f in found if f.kind == "dynamic"]
    if dynamic:
        fail(
            f"{function} must be written without {rule}, and it looks names up by string or "
            f"builds code at run time ({', '.join(dict.fromkeys(str(f) for f in dynamic))}), "
            f"which this check cannot follow; the step teaches how {rule} works, so call "
            f"functions by their names: {lesson}"
        )
    tampering = [f for f in found if f.kind == "tampering"]
    if tampering:
        fail(
            f"{function} must be written without {rule}, and its step file uses "
            f"{', '.join(dict.fromkeys(f.name for f in tampering))} "
            f"({', '.join(dict.fromkeys(str(f) for f in tampering))}), which reaches torch's "
            f"function dispatch that the grader observes: {lesson}"
        )


def calls(
    source: str | dict[str, str], function: str, names: set[str], step: str | None = None
) -> bool:
    """Whether the function (or what it reaches) uses one of ``names`` (see :func:`uses`)."""
    return any(f.kind == "uses" for f in findings(source, function, names, step))


def step_sources(submission: Submission) -> dict[str, str]:
    """The text of every step file the submission has (undecodable ones left out: they
    cannot be imported either)."""
    from ..steps import STEPS
    from ..submission.protocol import SubmissionError

    sources = {}
    for step in STEPS:
        if submission.has_step(step):
            try:
                sources[step] = submission.source(step)
            except SubmissionError:
                continue
    return sources


# --- the call, observed ----------------------------------------------------------------


def torch_records(raw: Any, what: str) -> list[tuple[str, bool, int]]:
    """The records of ``submission.torch_calls``, checked: they come from the submission's
    process (see grader/authoring/observe.py)."""
    from .observe import MAX_RECORDS

    if not isinstance(raw, (list, tuple)) or len(raw) > MAX_RECORDS:
        fail(f"{what}: the record of the torch functions it called is malformed")
    records = []
    for item in raw:
        if (
            not isinstance(item, (list, tuple))
            or len(item) != 3
            or type(item[0]) is not str
            or len(item[0]) > 200
            or type(item[1]) is not bool
            or type(item[2]) is not int
            or item[2] < 1
        ):
            fail(f"{what}: the record of the torch functions it called is malformed")
        records.append((item[0], item[1], item[2]))
    return records


def observed(records: list[tuple[str, bool, int]], names: set[str]) -> list[str]:
    """The recorded torch functions that are one of ``names`` (``torch.nn.functional.softmax``,
    ``torch.Tensor.softmax``, ``aten._softmax`` for ``softmax``)."""
    hits = []
    for name, _, _ in records:
        if any(_canonical(part, names) for part in name.split(".")):
            hits.append(name)
    return sorted(set(hits))


def written_without(
    submission: Submission,
    step: str,
    function: str,
    args: tuple,
    names: set[str],
    lesson: str,
    kwargs: dict | None = None,
    rule: str | None = None,
) -> Any:
    """Call ``<step>.<function>(*args)`` and fail if its source or the call itself uses one
    of ``names``; returns the output (for the test to check as well)."""
    output, raw = submission.torch_calls(step, function, args, kwargs)
    without(step_sources(submission), function, names, lesson, step=step, rule=rule)
    hits = observed(torch_records(raw, f"{step}.{function}"), names)
    if hits:
        fail(
            f"{function} must be written without {rule or ' / '.join(sorted(names))}; "
            f"running it called {', '.join(hits)}: {lesson}"
        )
    return output


# --- gradients reported from where the submission runs, checked here ----------------------
#
# A gradient of the student's own code can only be taken where that code runs (in a
# sandboxed worker, where the submission can replace the kit's code or autograd). The
# grader checks what comes back against the student function's own outputs: along a few
# random directions, a central difference of those outputs, computed here in float64,
# must agree with the returned gradient. A gradient that is not the gradient of what
# the function computes fails. (A function whose values are right and whose autograd
# graph is cut, with a patched kit that reports the right gradient anyway, is beyond
# what values seen from outside can tell.)

_FD_SEED = 8128  # a fixed generator of its own: the directions never touch the global RNG


def _weighted_sum(output: Any, weight: Any) -> float | None:
    """``sum((o * w).sum())`` over the tensor outputs, in float64; None if none is a tensor."""
    outputs = output if isinstance(output, tuple) else (output,)
    weights = weight if isinstance(weight, tuple) else (weight,)
    total, found = 0.0, False
    for i, o in enumerate(outputs):
        if not isinstance(o, torch.Tensor) or not o.is_floating_point():
            continue
        w = weights[i] if i < len(weights) else None
        o = o.detach().to("cpu", torch.float64)
        term = o if w is None else o * w.detach().to("cpu", torch.float64)
        total += term.sum().item()
        found = True
    return total if found else None


def _magnitude(output: Any, weight: Any) -> float:
    outputs = output if isinstance(output, tuple) else (output,)
    weights = weight if isinstance(weight, tuple) else (weight,)
    total = 0.0
    for i, o in enumerate(outputs):
        if isinstance(o, torch.Tensor) and o.is_floating_point():
            w = weights[i] if i < len(weights) else None
            o = o.detach().to("cpu", torch.float64).abs()
            total += (
                (o if w is None else o * w.detach().to("cpu", torch.float64).abs()).sum().item()
            )
    return float(total)


def _agrees(fd: float, claimed: float, scale: float, rounding: float, rel: float) -> bool:
    return abs(fd - claimed) <= rel * (scale + abs(fd)) + rounding + 1e-9


def gradient_of_outputs(
    call: Callable[..., Any],
    args: tuple,
    kwargs: dict | None,
    weight: Any,
    output: Any,
    grads: Any,
    what: str,
) -> None:
    """Check ``(output, grads)`` reported for ``call(*args, **kwargs)`` against ``call`` itself.

    ``call`` runs the student's function on the grader's behalf and returns plain
    data. The reported output must be what ``call`` returns; each gradient must have
    its input's shape; and where the inputs that require grad are float64, the
    gradient must match a directional central difference of ``call``'s outputs.
    Float32 inputs get the first two checks only: rounding at float32 makes a
    difference quotient too coarse to judge a gradient at the magnitudes tests use.
    """
    kwargs = kwargs or {}
    inputs = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor) and a.requires_grad]
    if grads is None:
        return  # not connected to autograd: the test says so
    if not isinstance(grads, tuple) or len(grads) != len(inputs):
        fail(f"the gradients reported for {what} do not match its inputs that require grad")
    for i, g in zip(inputs, grads, strict=True):
        if g is not None and (
            type(g) is not torch.Tensor or tuple(g.shape) != tuple(args[i].shape)
        ):
            fail(
                f"the gradient reported for argument {i} of {what} should be a tensor of shape "
                f"{tuple(args[i].shape)}, got {describe(g)}"
            )

    def run(shift: list[torch.Tensor] | None = None, h: float = 0.0) -> Any:
        fresh = []
        for i, a in enumerate(args):
            if i in inputs:
                a = a.detach().clone()
                if shift is not None:
                    a = (a.double() + h * shift[inputs.index(i)]).to(a.dtype)
                a.requires_grad_()
            fresh.append(a)
        return call(*fresh, **kwargs)

    again = run()
    if not isinstance(again, torch.Tensor) or not isinstance(output, torch.Tensor):
        fail(f"{what} should return a tensor, got {describe(again)}")
    if again.shape != output.shape or not torch.allclose(
        again.detach().double(), output.detach().double(), rtol=1e-6, atol=1e-9, equal_nan=True
    ):
        fail(f"the output reported with the gradient of {what} is not what {what} returns")
    if any(args[i].dtype != torch.float64 for i in inputs):
        return
    g = torch.Generator().manual_seed(_FD_SEED)
    sizes = [args[i].detach().abs().max().item() for i in inputs if args[i].numel()]
    largest = max(sizes, default=1.0)
    h = 1e-6 * max(1.0, largest)
    magnitude = _magnitude(output, weight)
    for _ in range(2):
        shift = [torch.randn(args[i].shape, generator=g, dtype=torch.float64) for i in inputs]
        plus, minus = _weighted_sum(run(shift, h), weight), _weighted_sum(run(shift, -h), weight)
        if plus is None or minus is None:
            fail(f"{what} should return a tensor for every input")
        fd = (plus - minus) / (2 * h)
        pairs = [(gr, v) for gr, v in zip(grads, shift, strict=True) if gr is not None]
        claimed = sum((gr.double() * v).sum().item() for gr, v in pairs)
        scale = sum((gr.double().abs() * v.abs()).sum().item() for gr, v in pairs)
        rounding = 100 * torch.finfo(torch.float64).eps * magnitude / h
        if not _agrees(fd, claimed, scale, rounding, rel=1e-4):
            fail(
                f"the gradient reported for {what} is not the gradient of what {what} "
                f"computes: along a random direction its outputs change at the rate "
                f"{fd:.6g}, the reported gradient says {claimed:.6g} (is part of the "
                "computation detached, or rebuilt with torch.tensor(...)?)"
            )


def parameter_gradients_of_outputs(
    module: Any, args: tuple, weight: Any, grads: Any, what: str
) -> None:
    """Check parameter gradients reported for ``module(*args)`` against the module itself.

    For each parameter, the module's parameters are moved along a random direction
    (``load_state_dict``, then restored) and a central difference of the module's
    own outputs must match the reported gradient. The module must be smooth near its
    parameters (the tests use tanh): across a ReLU's kink a difference quotient is not
    a derivative. Float32 parameters get a tolerance of 1e-3 relative (an honest RNN
    stays below a twentieth of it; a gradient 10% off, or one left out, exceeds it).
    """
    if not isinstance(grads, dict):
        fail(f"the gradients reported for {what} should be a dict by parameter name")
    original = {k: v.detach().clone() for k, v in module.state_dict().items()}
    params = dict(module.named_parameters())
    g = torch.Generator().manual_seed(_FD_SEED)
    try:
        base = module(*args)
        magnitude = _magnitude(base, weight)
        for name, p in params.items():
            grad = grads.get(name)
            if grad is not None and (
                type(grad) is not torch.Tensor or tuple(grad.shape) != tuple(p.shape)
            ):
                fail(
                    f"the gradient reported for {what}'s parameter {name} should have shape "
                    f"{tuple(p.shape)}, got {describe(grad)}"
                )
            if name not in original or not p.is_floating_point():
                continue
            v = torch.randn(p.shape, generator=g, dtype=torch.float64)
            v /= v.norm().clamp_min(1e-12)
            eps = torch.finfo(p.dtype).eps
            h = (1e-6 if p.dtype == torch.float64 else 3e-3) * max(1.0, p.abs().max().item())
            sums = []
            for sign in (1, -1):
                moved = dict(original)
                moved[name] = (original[name].double() + sign * h * v).to(original[name].dtype)
                module.load_state_dict(moved)
                sums.append(_weighted_sum(module(*args), weight))
            plus, minus = sums
            if plus is None or minus is None:
                fail(f"{what} should return tensors")
            fd = (plus - minus) / (2 * h)
            claimed = 0.0 if grad is None else (grad.double() * v).sum().item()
            scale = 0.0 if grad is None else (grad.double().abs() * v.abs()).sum().item()
            rounding = 5 * eps * magnitude / h
            rel = 1e-4 if p.dtype == torch.float64 else 1e-3
            if not _agrees(fd, claimed, scale, rounding, rel):
                fail(
                    f"the gradient reported for {what}'s parameter {name} is not the gradient "
                    f"of what {what} computes: along a random direction its outputs change at "
                    f"the rate {fd:.6g}, the reported gradient says {claimed:.6g} (is part of "
                    "the computation detached, or rebuilt with torch.tensor(...)?)"
                )
    finally:
        module.load_state_dict(original)
