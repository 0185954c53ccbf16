"""Every public differentiable function in minicnn.functional has a gradcheck case.

Gradcheck cases register themselves with `tests.helpers.covers`; this test imports every
test module so that the registry is complete however the suite was invoked.
"""
import importlib
import pathlib

import minicnn.functional as F
from tests.helpers import GRADCHECKED


def _import_all_test_modules():
    root = pathlib.Path(__file__).parent
    for path in sorted(root.rglob("test_*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        importlib.import_module(module)


def test_every_differentiable_function_has_a_gradcheck_case():
    _import_all_test_modules()
    differentiable = set(F.__all__) - F.NON_DIFFERENTIABLE
    missing = sorted(differentiable - GRADCHECKED)
    assert not missing, f"functional ops without a gradcheck case: {missing}"


def test_registry_names_exist():
    _import_all_test_modules()
    unknown = sorted(GRADCHECKED - set(F.__all__))
    assert not unknown, f"gradcheck cases registered for unknown names: {unknown}"
