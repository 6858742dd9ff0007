"""The public API follows the policy in CONTRIBUTING.md: enumerated from every subpackage's
`__init__`, checked by signature, return annotation and source (no calls, so it is fast)."""

import ast
import importlib
import inspect
import pkgutil
import textwrap
import typing
from pathlib import Path

import equinox as eqx
import pytest

import neurojax

SUBPACKAGES = ("neurojax", "neurojax.infomax", "neurojax.ring", "neurojax.sparse", "neurojax.info",
               "neurojax.parallel", "neurojax.experiments")
# the model subpackages take `key=`; the experiment layer takes an integer `seed` (it is written
# into run directories and summaries); sklearn-style estimators take sklearn's `random_state`
MODEL_SUBPACKAGES = ("neurojax.infomax", "neurojax.ring", "neurojax.sparse", "neurojax.info")
# every solver, simulation and protocol: returns an equinox Module with named fields
SOLVERS = {
    "neurojax.infomax": ("equilibrium", "batch_roots", "objective_and_grads",
                         "train_on_batches", "train", "penalty_sweep", "critical_slowing",
                         "learn_chunk", "paper_slowing"),
    "neurojax.ring": ("simulate", "sweep", "kernel_stats", "wave_speed"),
    "neurojax.sparse": ("fista", "ista", "lasso_lars", "omp", "learn_dictionary", "gabor_fit",
                        "pca"),
    "neurojax.info": ("train_critic", "train_dim", "permutation_test", "bootstrap_ci"),
    "neurojax.experiments": ("run_protocol", "run_paper"),
}
# the experiment layer's entry points return JSON-ready summaries (written to summary.json)
JSON_SUMMARIES = {"environment", "run_demo", "info_demo", "info_experiment", "infomax_demo",
                  "ring_demo", "ring_experiment", "sparse_demo", "sparse_experiment",
                  "tinnitus_demo", "tinnitus_experiment", "tinnitus_measures", "natural_atoms",
                  "dim_experiment"}
# scikit-learn's own signatures, kept for the drop-in: `dict_learning` returns 3 or 4 values
# (`return_n_iter`), `dict_learning_online` (code, dictionary) or the dictionary (`return_code`)
SKLEARN_SIGNATURES = {"dict_learning", "dict_learning_online"}


def _public(modname):
    mod = importlib.import_module(modname)
    return [(name, getattr(mod, name)) for name in dir(mod)
            if not name.startswith("_") and not inspect.ismodule(getattr(mod, name))]


def _functions(modname):
    return [(n, f) for n, f in _public(modname) if inspect.isfunction(inspect.unwrap(f))
            or isinstance(f, eqx.Module) and callable(f) and hasattr(f, "__wrapped__")]


def _signature(f):
    return inspect.signature(inspect.unwrap(f))


@pytest.mark.parametrize("modname", SUBPACKAGES)
def test_init_files_only_re_export(modname):
    path = Path(importlib.import_module(modname).__file__)
    tree = ast.parse(path.read_text())
    for node in tree.body:
        ok = isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        assert ok, f"{path}:{node.lineno}: __init__ files only re-export"


@pytest.mark.parametrize("modname", SUBPACKAGES)
def test_random_functions_take_a_keyword_only_key(modname):
    for name, f in _functions(modname) + [(n, c.__init__) for n, c in _public(modname)
                                          if inspect.isclass(c)]:
        params = _signature(f).parameters
        if "key" in params:
            assert params["key"].kind == inspect.Parameter.KEYWORD_ONLY, f"{modname}.{name}"
        if modname in MODEL_SUBPACKAGES:
            assert "seed" not in params, f"{modname}.{name} takes `seed`; use a keyword-only `key`"
        if "progress" in params:  # one convention: None or a callable
            assert params["progress"].default is None or modname == "neurojax.experiments", name


def _resolved_return(modname, name, f):
    f = inspect.unwrap(f)
    hints = typing.get_type_hints(f, globalns={**vars(importlib.import_module(f.__module__)),
                                               **vars(importlib.import_module(modname))})
    return hints.get("return")


@pytest.mark.parametrize("modname", sorted(SOLVERS))
def test_solvers_return_modules(modname):
    funcs = dict(_functions(modname))
    for name in SOLVERS[modname]:
        ret = _resolved_return(modname, name, funcs[name])
        assert inspect.isclass(ret) and issubclass(ret, eqx.Module), f"{modname}.{name} -> {ret}"
        fields = [f.name for f in ret.__dataclass_fields__.values()]
        assert fields and (ret.__doc__ or "").strip(), f"{ret.__name__}: named, documented fields"


def _return_shapes(fn_node):
    """The tuple arity (or 'value') of every `return` of a function, nested functions excluded."""
    shapes = []

    def shape(v):
        if isinstance(v, ast.Tuple):
            return len(v.elts)
        if isinstance(v, ast.IfExp):
            return (shape(v.body), shape(v.orelse))
        return "value"

    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                  ast.ClassDef)):
                continue
            if isinstance(child, ast.Return) and child.value is not None:
                shapes.append(shape(child.value))
            walk(child)

    walk(fn_node)
    return shapes


def _flatten(shapes):
    for s in shapes:
        yield from (_flatten(s) if isinstance(s, tuple) else [s])


@pytest.mark.parametrize("modname", SUBPACKAGES)
def test_no_public_function_returns_a_tuple_of_varying_length(modname):
    for name, f in _functions(modname):
        if modname == "neurojax.sparse" and name in SKLEARN_SIGNATURES:
            continue
        src = textwrap.dedent(inspect.getsource(inspect.unwrap(f)))
        node = ast.parse(src).body[0]
        found = set(_flatten(_return_shapes(node)))
        ints = {s for s in found if s != "value"}
        assert len(ints) <= 1 and not (ints and "value" in found), \
            f"{modname}.{name} returns tuples of lengths {sorted(ints)} or a tuple or a value"
        ret = _resolved_return(modname, name, f)
        if modname == "neurojax.experiments" and name in JSON_SUMMARIES:
            continue
        assert typing.get_origin(ret) is not dict and ret is not dict, \
            f"{modname}.{name} returns a dict; give it a result Module"


def _imports_of(path: Path, package: str):
    """Absolute module names imported by a file of `package` (relative imports resolved)."""
    parts = package.split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # from . import x, y
                    yield from (f"{mod}.{a.name}" for a in node.names)
                    continue
            else:
                mod = node.module
            yield mod
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def _subpackage_graph():
    root = Path(neurojax.__file__).parent
    subs = {m.name for m in pkgutil.iter_modules([str(root)]) if m.ispkg}
    graph = {s: set() for s in subs}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).parts
        if rel[0] not in subs:
            continue
        package = ".".join(("neurojax",) + rel[:-1])
        for mod in _imports_of(path, package):
            p = mod.split(".")
            if p[0] == "neurojax" and len(p) > 1 and p[1] in subs and p[1] != rel[0]:
                graph[rel[0]].add(p[1])
    return graph


def test_no_import_cycle_between_subpackages():
    graph = _subpackage_graph()
    assert "infomax" in graph["experiments"] and "parallel" in graph["infomax"]  # sanity
    assert not graph["parallel"], f"parallel is model-free plumbing, imports {graph['parallel']}"

    def cycle_from(start):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return path + [nxt]
                if nxt not in path:
                    stack.append((nxt, path + [nxt]))
        return None

    for s in graph:
        c = cycle_from(s)
        assert c is None, " -> ".join(c)


# White-box profiles time a solver's internal stages one at a time, which only its private
# functions expose; they are developer tools, not examples of the API.
WHITE_BOX_PROFILES = {"profile_reduced_step.py"}


def test_nothing_outside_a_module_imports_its_underscore_names():
    """Package code, benchmarks and notebooks import public names only (tests of a private module
    may import it; the white-box profiles above are named one by one)."""
    repo = Path(neurojax.__file__).parent.parent
    files = [*(repo / "benchmarks").glob("*.py"), *(repo / "notebooks").glob("*.py")]
    assert WHITE_BOX_PROFILES <= {p.name for p in files}, "a listed profile is gone: unlist it"
    for path in files:
        if path.name in WHITE_BOX_PROFILES:
            continue
        for mod in _imports_of(path, "benchmarks"):
            if mod.startswith("neurojax"):
                assert not any(p.startswith("_") for p in mod.split(".")), f"{path.name}: {mod}"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("neurojax"):
                bad = [a.name for a in node.names if a.name.startswith("_")]
                assert not bad, f"{path.name} imports {bad} from {node.module}"


def test_no_package_module_imports_another_modules_underscore_names():
    """Inside the package, a module imports only public names of another module (private
    modules themselves, `from .. import _linalg`, are fine: the underscore marks the module as
    internal to the package, not its names as internal to the module)."""
    root = Path(neurojax.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
            elif (node.module or "").startswith("neurojax"):
                base = root.parent
            else:
                continue
            target = base.joinpath(*(node.module or "").split(".")) if node.module else base
            for alias in node.names:
                name = alias.name
                is_module = (target / f"{name}.py").exists() or (target / name).is_dir()
                assert not (name.startswith("_") and not name.startswith("__") and
                            not is_module), f"{path.relative_to(root)} imports {name} from " \
                                            f"{node.module}"


def test_dependency_privates_are_at_tested_versions():
    from neurojax import _compat

    found = _compat.check_versions()
    assert set(found) == set(_compat.TESTED)
    root = Path(neurojax.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "_compat.py":
            continue
        for mod in _imports_of(path, "neurojax"):
            top = mod.split(".")
            if top[0] in ("lineax", "optimistix", "equinox", "optax", "jax"):
                assert not any(p.startswith("_") for p in top[1:]), f"{path}: imports {mod}"
