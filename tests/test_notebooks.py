"""Every notebook in notebooks/ runs from top to bottom without an error.

Each notebook is executed in a fresh kernel of the current Python, with a temporary folder
as its working directory so that nothing it writes lands in the repository. MINICNN_QUICK=1
is set for the kernel: a notebook that trains shrinks its epochs, data and seeds under it
(its committed outputs come from the full run, without the variable).
"""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_SECONDS = 300


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="running notebooks needs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="running notebooks needs nbclient")
    pytest.importorskip("ipykernel", reason="running notebooks needs ipykernel")
    from scripts.execute_notebooks import kernel_of_this_interpreter
    kernel_manager = kernel_of_this_interpreter(tmp_path / "kernels")
    monkeypatch.setenv("MINICNN_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))

    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, km=kernel_manager, timeout=CELL_TIMEOUT_SECONDS,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert not any(output.get("output_type") == "error"
                   for cell in notebook.cells for output in cell.get("outputs", []))
