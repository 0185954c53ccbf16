"""Execute notebooks in place, so that the committed notebooks carry their outputs and figures.

    python scripts/execute_notebooks.py                      # every notebook in notebooks/
    python scripts/execute_notebooks.py 02_convolution 03_one_training_step.ipynb

Each runs top to bottom in a fresh kernel of this Python, importing the minicnn of this
checkout, with a temporary folder as its working directory (so that files a notebook writes
do not land in the repository) and without MINICNN_QUICK: committed outputs come from the
full run. A notebook whose cell fails is left as it was, and the script exits with status 1.
"""
import argparse
import json
import os
import pathlib
import sys
import tempfile

import nbclient
import nbformat
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_SECONDS = 1200


def notebook_paths(names):
    """The notebooks named (with or without .ipynb, or as paths), or all of them."""
    if not names:
        return sorted(NOTEBOOKS.glob("*.ipynb"))
    paths = []
    for name in names:
        path = pathlib.Path(name)
        path = path if path.suffix == ".ipynb" else path.with_suffix(".ipynb")
        path = path if path.exists() else NOTEBOOKS / path.name
        if not path.exists():
            raise SystemExit(f"execute_notebooks: no notebook {name} (looked for {path})")
        paths.append(path)
    return paths


def kernel_of_this_interpreter(folder):
    """A kernel manager that starts sys.executable, whatever kernel named python3 is installed."""
    spec = pathlib.Path(folder) / "this-python"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return KernelManager(kernel_name="this-python", kernel_spec_manager=specs)


def execute(path):
    """Run the notebook at `path` and write it back with its outputs; False if a cell failed."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as folder:
        client = nbclient.NotebookClient(notebook, km=kernel_of_this_interpreter(folder),
                                         timeout=CELL_TIMEOUT_SECONDS,
                                         resources={"metadata": {"path": folder}})
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as error:
            print(f"{path.name}: a cell failed, the notebook is left as it was\n{error}", file=sys.stderr)
            return False
    # The kernel's own name would differ from machine to machine; keep the usual one.
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    temporary = path.with_name(f".{path.name}.tmp")
    nbformat.write(notebook, temporary)
    os.replace(temporary, path)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="names or paths (default: every notebook)")
    args = parser.parse_args()
    os.environ.pop("MINICNN_QUICK", None)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    failed = []
    for path in notebook_paths(args.notebooks):
        print(f"executing {path.relative_to(ROOT)}", flush=True)
        if not execute(path):
            failed.append(path.name)
    if failed:
        raise SystemExit(f"execute_notebooks: failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
