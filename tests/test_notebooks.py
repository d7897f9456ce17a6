"""The committed notebooks: clean (no outputs), runnable by papermill, parameters in sync with the profiles."""
import ast
import re

import nbformat
import pytest

from shared import config
from shared.runner import notebooks

NOTEBOOKS = notebooks.notebook_paths()


def test_the_chain_is_numbered_from_01():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[0] == 1 and numbers == sorted(set(numbers))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_kernel_metadata(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["language_info"]["name"] == "python"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_is_defined_in_notebooks(path):
    """Notebooks call the package; functions and classes live in src/shared."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(re.sub(r"^[%!].*$", "", cell.source, flags=re.M))
        defined = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.AsyncFunctionDef))]
        assert not defined, f"{path.name}: move {type(defined[0]).__name__} into src/shared"


def _called(node) -> str:
    func = node.func if isinstance(node, ast.Call) else None
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_table_is_shown_for_people(path):
    """A table reaches a reader only through report.for_people (whole names, rounded numbers, no row numbers,
    escaped): what a cell displays is markdown, a figure or for_people's table, never a raw DataFrame."""
    nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(re.sub(r"^[%!].*$", "", cell.source, flags=re.M))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _called(node) == "display":
                assert _called(node.args[0]) in {"Markdown", "for_people"}, f"{path.name} {cell.id}: display(report.for_people(...))"
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr) and not cell.source.rstrip().endswith(";"):
            assert _called(last.value) in {"for_people", "display"}, f"{path.name} {cell.id}: end with report.for_people(...)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_holds_only_the_run_folder(path):
    """Defaults live in params/default.yaml only: a notebook reads the run's params.json (config.for_notebook)."""
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in cells[0].metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    namespace: dict = {}
    exec(cells[0].source, {}, namespace)
    assert set(namespace) == set(config.RUN_PARAMETERS)
    assert "config.for_notebook(run_dir, globals())" in cells[1].source


def test_no_code_default_disagrees_with_default_yaml(tmp_path):
    """Every model gets its arguments from the parameters; a constructor default, where one exists, must be
    the value params/default.yaml gives."""
    import inspect

    import numpy as np

    from shared import text
    from shared.models import registry

    vectors = text.write_item_vectors(tmp_path / "vectors.parquet", ["a", "b"], np.eye(2, 4, dtype=np.float32))
    defaults = {**config.load("default"), "text_embeddings": str(vectors)}  # what notebook 03 writes
    for name, (cls, arguments) in registry.ARGUMENTS.items():
        declared = {}  # every __init__ up the class tree (ALS passes **kwargs on to MatrixFactorization)
        for klass in reversed(cls.__mro__):
            if "__init__" in vars(klass) and klass is not object:
                declared.update(inspect.signature(klass.__init__).parameters)
        for argument, value in arguments(defaults).items():
            default = declared[argument].default
            if default is not inspect.Parameter.empty and default is not None:
                assert default == value, f"{name}: {cls.__name__}({argument}={default!r}) but default.yaml gives {value!r}"
