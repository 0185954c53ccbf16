"""minicnn.serialization: pickle-free .npz and .safetensors files, written atomically."""
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import tracemalloc
import zipfile

import numpy
import pytest

import minicnn
from minicnn import serialization
from minicnn.serialization import METADATA_KEY, load, save


def checkpoint():
    rng = numpy.random.default_rng(0)
    return {
        "model": {"conv.weight": minicnn.tensor(rng.standard_normal((2, 1, 3, 3)).astype("float32")),
                  "bn.num_batches_tracked": minicnn.tensor(numpy.array(7, dtype=numpy.int64))},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": rng.standard_normal(4)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                                        "params": [0, 1]}]},
        "scalar": numpy.array(2.5),
        "ints": numpy.arange(5, dtype=numpy.int64),
        "best": math.inf, "name": "résumé", "nothing": None, "seed": 2 ** 100,
        "numpy_float": numpy.float32(0.5),
    }


def test_round_trip_keeps_values_types_and_dtypes(tmp_path):
    original = checkpoint()
    save(original, tmp_path / "checkpoint.npz")
    loaded = load(tmp_path / "checkpoint.npz")

    weight = loaded["model"]["conv.weight"]
    assert isinstance(weight, minicnn.Tensor) and weight.dtype == numpy.float32
    numpy.testing.assert_array_equal(weight.numpy(), original["model"]["conv.weight"].numpy())
    tracked = loaded["model"]["bn.num_batches_tracked"]
    assert tracked.shape == () and tracked.dtype == numpy.int64 and tracked.item() == 7
    state = loaded["optimizer"]["state"]
    assert list(state) == [0] and state[0]["step"] == 3          # int keys stay ints
    assert isinstance(state[0]["exp_avg"], numpy.ndarray)        # arrays stay arrays
    assert state[0]["exp_avg"].dtype == numpy.float64
    numpy.testing.assert_array_equal(state[0]["exp_avg"], original["optimizer"]["state"][0]["exp_avg"])
    assert loaded["optimizer"]["param_groups"] == original["optimizer"]["param_groups"]
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    assert loaded["scalar"].shape == () and loaded["scalar"] == 2.5
    assert loaded["ints"].dtype == numpy.int64
    assert (loaded["best"], loaded["name"], loaded["nothing"], loaded["seed"]) == \
        (math.inf, "résumé", None, 2 ** 100)
    assert loaded["numpy_float"] == 0.5


def test_npz_is_readable_by_numpy_alone(tmp_path):
    save(checkpoint(), tmp_path / "checkpoint.npz")
    with numpy.load(tmp_path / "checkpoint.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted([METADATA_KEY, "model/conv.weight",
                                            "model/bn.num_batches_tracked",
                                            "optimizer/state/0/exp_avg", "scalar", "ints"])
        assert json.loads(npz[METADATA_KEY].tobytes())["format"] == serialization.FORMAT


def test_plain_npz_loads_as_flat_dict_of_tensors(tmp_path):
    numpy.savez(tmp_path / "plain.npz", **{"0.weight": numpy.ones((2, 3)), "0.bias": numpy.zeros(2)})
    loaded = load(tmp_path / "plain.npz")
    assert sorted(loaded) == ["0.bias", "0.weight"]
    assert isinstance(loaded["0.weight"], minicnn.Tensor) and loaded["0.weight"].shape == (2, 3)


def test_safetensors_round_trip_and_layout(tmp_path):
    arrays = {"w": numpy.arange(6, dtype=numpy.float32).reshape(2, 3),
              "d": numpy.array([1.5, -2.0]), "i": numpy.array(-3, dtype=numpy.int64),
              "mask": numpy.array([True, False])}
    path = tmp_path / "model.safetensors"
    save({**{k: minicnn.tensor(v) for k, v in arrays.items() if k != "mask"}, "mask": arrays["mask"]},
         path)
    raw = path.read_bytes()
    header_length = int.from_bytes(raw[:8], "little")
    assert header_length % 8 == 0
    header = json.loads(raw[8:8 + header_length])
    assert header["w"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    loaded = load(path)
    for name, array in arrays.items():
        assert loaded[name].dtype == array.dtype
        numpy.testing.assert_array_equal(loaded[name].numpy(), array)


def write_safetensors_by_hand(path, entries, metadata=None):
    """A file as the format's specification describes it, built without minicnn."""
    header, data = {}, b""
    for name, (dtype_name, shape, raw) in entries.items():
        header[name] = {"dtype": dtype_name, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)


def test_reads_safetensors_written_elsewhere_including_bfloat16(tmp_path):
    values = numpy.array([1.0, -2.5, 0.15625], dtype=numpy.float32)
    bfloat16 = (values.view(numpy.uint32) >> 16).astype("<u2").tobytes()   # exact for these
    write_safetensors_by_hand(tmp_path / "m.safetensors", {
        "b": ("BF16", [3], bfloat16),
        "h": ("F16", [1, 2], numpy.array([[1, 2]], dtype="<f2").tobytes()),
    }, metadata={"format": "pt"})
    loaded = load(tmp_path / "m.safetensors")
    assert sorted(loaded) == ["b", "h"]
    assert loaded["b"].dtype == numpy.float32
    numpy.testing.assert_array_equal(loaded["b"].numpy(), values)
    assert loaded["h"].dtype == numpy.float16 and loaded["h"].shape == (1, 2)


def test_failure_while_writing_leaves_the_old_file_and_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    save({"x": numpy.ones(3)}, path)
    before = path.read_bytes()

    def half_written(file, arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "_write_npz", half_written)
    with pytest.raises(OSError, match="disk full"):
        save({"x": numpy.zeros(3)}, path)
    monkeypatch.undo()
    def failed_rename(source, target):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failed_rename)
    with pytest.raises(OSError, match="rename failed"):
        save({"x": numpy.zeros(3)}, path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz"]
    numpy.testing.assert_array_equal(load(path)["x"], numpy.ones(3))


@pytest.mark.parametrize("obj, error, message", [
    ({"s": {1, 2}}, TypeError, r"save: cannot store 's' of type set"),
    ({"a": {"b/c": numpy.ones(1)}}, ValueError, r"save: the key 'b/c' in 'a' contains '/'"),
    ({(1, 2): numpy.ones(1)}, TypeError, r"save: dict keys must be strings or integers, got \(1, 2\)"),
    ({"o": numpy.array([None, 1], dtype=object)}, TypeError, r"'o' is an array of Python objects"),
    ([numpy.ones(1)], TypeError, r"save: expected a dict .*, got list"),
])
def test_unsavable_objects_raise_before_touching_the_file(tmp_path, obj, error, message):
    path = tmp_path / "checkpoint.npz"
    save({"x": numpy.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(error, match=message):
        save(obj, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.npz"]


def test_two_entries_stored_under_the_same_name_are_refused(tmp_path):
    # The int key 0 and the str key "0" would both become the array "w/0": saving both would
    # silently lose one, and a loaded optimizer state (int keys) would be wrong.
    path = tmp_path / "checkpoint.npz"
    save({"x": numpy.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="save: two entries would both be stored as 'w/0'"):
        save({"w": {0: numpy.zeros(2), "0": numpy.ones(2)}}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.npz"]
    save({"w": {0: numpy.zeros(2), "1": numpy.ones(2)}}, path)     # distinct names are fine
    assert list(load(path)["w"]) == [0, "1"]


def test_safetensors_holds_only_a_flat_dict_of_arrays(tmp_path):
    with pytest.raises(TypeError, match=r"flat dict of named arrays, but entry 'opt' is a dict; "
                                        r"save nested checkpoints as .npz"):
        save({"opt": {"lr": 0.1}}, tmp_path / "x.safetensors")


def test_truncated_corrupt_and_foreign_files_raise_errors_naming_the_path(tmp_path):
    path = tmp_path / "checkpoint.npz"
    save({"x": numpy.arange(1000.0)}, path)
    raw = path.read_bytes()

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match=rf"load: {re.escape(str(truncated))} is a damaged or truncated .npz file"):
        load(truncated)

    corrupt = tmp_path / "corrupt.npz"
    middle = len(raw) // 2
    corrupt.write_bytes(raw[:middle] + bytes(b ^ 0xFF for b in raw[middle:middle + 16]) + raw[middle + 16:])
    with pytest.raises(ValueError, match=rf"load: {re.escape(str(corrupt))} is a damaged or truncated .npz file"):
        load(corrupt)

    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match=rf"load: {re.escape(str(text))} is not an .npz file"):
        load(text)

    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")


@pytest.mark.parametrize("name", ["state.npz", "state.safetensors"])
def test_a_file_whose_sha256_differs_is_refused_before_it_is_decoded(tmp_path, name):
    path = tmp_path / name
    save({"w": minicnn.arange(6.0)}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert load(path, sha256=digest.upper())["w"].tolist() == list(range(6))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    changed = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ValueError, match=f"load: {re.escape(str(path))} has sha256 {changed}, "
                                         f"expected {digest}: the file is damaged or was changed"):
        load(path, sha256=digest)


def test_damaged_safetensors_files_raise_clear_errors(tmp_path):
    path = tmp_path / "m.safetensors"
    save({"w": numpy.ones((4, 4))}, path)
    raw = path.read_bytes()
    cases = {
        raw[:5]: r"it has 5 bytes, fewer than the 8-byte header length",
        (10 ** 9).to_bytes(8, "little") + raw[8:]: r"the header length 1000000000 exceeds the 192 bytes",
        raw[:-8]: r"entry 'w' \(F64, shape \[4, 4\]\) needs 128 bytes",
        raw[:8] + b"{" * (len(raw) - 8): r"the header is not JSON",
    }
    for content, message in cases.items():
        path.write_bytes(content)
        with pytest.raises(ValueError, match=rf"load: {re.escape(str(path))} is not a valid .safetensors file: {message}"):
            load(path)


def test_pytorch_state_dict_exported_to_npz_reproduces_pytorch_outputs(torch, tmp_path):
    from minicnn import nn
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 5)).double()
    with torch.no_grad():                       # running statistics that are not 0 and 1
        reference[1].running_mean.uniform_(-1, 1)
        reference[1].running_var.uniform_(0.5, 2)
        reference[1].num_batches_tracked.fill_(12)
    reference.eval()
    path = tmp_path / "torch_model.npz"
    numpy.savez(path, **{k: v.numpy() for k, v in reference.state_dict().items()})

    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5)).double()
    model.load_state_dict(load(path))
    model.eval()

    x = numpy.random.default_rng(0).standard_normal((2, 3, 8, 8))
    with torch.no_grad():
        expected = reference(torch.tensor(x)).numpy()
    with minicnn.no_grad():
        got = model(minicnn.tensor(x)).numpy()
    numpy.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)

    # The same weights through a .safetensors file written by minicnn.
    save(model.state_dict(), tmp_path / "model.safetensors")
    again = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 5)).double()
    again.load_state_dict(load(tmp_path / "model.safetensors"))
    again.eval()
    with minicnn.no_grad():
        numpy.testing.assert_array_equal(again(minicnn.tensor(x)).numpy(), got)


def test_safetensors_entries_must_have_integer_shapes_and_offsets(tmp_path):
    path = tmp_path / "m.safetensors"
    header = json.dumps({"w": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    with pytest.raises(ValueError, match=r"entry 'w' needs a dtype, a shape and data_offsets of "
                                         r"non-negative integers"):
        load(path)


def test_saving_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"save: cannot write .* the directory .*missing does not exist"):
        save({"x": numpy.ones(1)}, tmp_path / "missing" / "x.npz")


def npz_with_member(path, header, data, compress_type=zipfile.ZIP_STORED):
    """An .npz holding one member 'w.npy' made of the given .npy header and data bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("w.npy"), header + data, compress_type=compress_type)


def npy_header(shape, descr="<f8"):
    stream = io.BytesIO()
    numpy.lib.format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": False,
                                                      "shape": shape})
    return stream.getvalue()


def refused_without_allocating(path, message):
    """load(path) raises the damaged-file error ending in `message`, having allocated less
    than 1 MiB (tracemalloc sees NumPy's allocations)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=rf"load: {re.escape(str(path))} is a damaged or "
                                             rf"truncated .npz file .*{message}"):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 ** 20


def test_npz_declaring_arrays_larger_than_the_file_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    cases = [
        # 80 bytes of data under a header declaring 8 TiB (NumPy would allocate, then fail)
        (npy_header((2 ** 40,)), bytes(80), zipfile.ZIP_STORED,
         r"declares an array of shape \(1099511627776,\) and dtype float64 \(8796093022208 "
         r"bytes\) but holds 80 bytes"),
        (npy_header((3,)), bytes(80), zipfile.ZIP_STORED, r"\(24 bytes\) but holds 80 bytes"),
        (npy_header((2 ** 40,)), bytes(80), zipfile.ZIP_DEFLATED, r"but holds 80 bytes"),
    ]
    for header, data, compression, message in cases:
        npz_with_member(path, header, data, compression)
        refused_without_allocating(path, message)


def test_npz_member_claiming_more_than_its_compressed_bytes_is_refused(tmp_path):
    # The zip's central directory says how large a member unpacks; a stored member cannot
    # unpack to more than it stores, a deflated one to at most about 1032 times.
    path = tmp_path / "forged.npz"
    header = npy_header((2 ** 28,))
    npz_with_member(path, header, bytes(80))
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    raw[central + 24:central + 28] = (len(header) + 8 * 2 ** 28).to_bytes(4, "little")
    path.write_bytes(raw)
    refused_without_allocating(path, r"member 'w.npy' claims 2147483776 bytes from 208 "
                                     r"compressed bytes")


def test_minicnn_and_numpy_npz_files_pass_the_size_check(tmp_path):
    arrays = {"a": numpy.arange(12.0).reshape(3, 4), "b": numpy.zeros((0, 5), numpy.int8),
              "c": numpy.asfortranarray(numpy.ones((4, 3), numpy.float32)),
              "z": numpy.zeros(100_000)}            # deflates far below its size
    numpy.savez_compressed(tmp_path / "compressed.npz", **arrays)
    numpy.savez(tmp_path / "plain.npz", **arrays)
    for name in ("compressed.npz", "plain.npz"):
        loaded = load(tmp_path / name)
        for key, array in arrays.items():
            numpy.testing.assert_array_equal(loaded[key].numpy(), array)


def safetensors_file(path, entries, data_length):
    header = json.dumps({name: {"dtype": "F32", "shape": [(end - begin) // 4],
                                "data_offsets": [begin, end]}
                         for name, (begin, end) in entries.items()}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + bytes(data_length))


@pytest.mark.parametrize("entries, data_length, message", [
    ({"a": (0, 8), "b": (4, 12)}, 12, r"entry 'b' starts at byte 4, but the entries before it "
                                      r"end at byte 8: they overlap"),
    ({"a": (0, 8), "b": (0, 8)}, 8, r"entry 'b' starts at byte 0, .* end at byte 8: they overlap"),
    ({"a": (0, 8), "b": (12, 16)}, 16, r"entry 'b' starts at byte 12, .* at byte 8: a hole lies "
                                       r"between"),
    ({"a": (4, 8)}, 8, r"entry 'a' starts at byte 4, .* end at byte 0: a hole lies between"),
    ({"a": (0, 8)}, 12, r"the entries end at byte 8 of a data part of 12 bytes: a hole lies "
                        r"at the end"),
])
def test_safetensors_with_overlapping_offsets_or_holes_are_refused(tmp_path, entries,
                                                                   data_length, message):
    path = tmp_path / "m.safetensors"
    safetensors_file(path, entries, data_length)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is not a valid .safetensors "
                                         rf"file: {message}"):
        load(path)
    safetensors_file(path, {"a": (0, 8), "empty": (8, 8), "b": (8, 12)}, 12)   # tiles exactly
    assert [tuple(t.shape) for t in load(path).values()] == [(2,), (0,), (1,)]


def test_deeply_nested_json_names_the_file(tmp_path):
    path = tmp_path / "deep.safetensors"
    header = b"[" * 100_000 + b"]" * 100_000
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(ValueError, match=rf"{re.escape(str(path))} is not a valid .safetensors "
                                         r"file: the header's JSON is nested too deeply"):
        load(path)

    path = tmp_path / "deep.npz"
    metadata = b'{"format": "minicnn.npz/1", "tree": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    numpy.savez(path, **{METADATA_KEY: numpy.frombuffer(metadata, numpy.uint8)})
    with pytest.raises(ValueError, match=rf"load: {re.escape(str(path))} has damaged minicnn "
                                         r"metadata \(nested too deeply to read\)"):
        load(path)


WRITE_AND_WAIT = """
import sys
from minicnn.serialization import write_atomically

def write(file):
    file.write(bytes(1 << 20))
    file.flush()
    print("writing", flush=True)
    sys.stdin.readline()           # never answered: the parent kills this process
write_atomically(sys.argv[1], write)
"""


@pytest.mark.skipif(os.name != "posix", reason="temporaries are locked with POSIX flock")
def test_a_killed_save_leaves_the_old_file_and_the_next_save_removes_its_temporary(tmp_path):
    path = tmp_path / "checkpoint.npz"
    save({"x": numpy.ones(3)}, path)
    writer = subprocess.Popen([sys.executable, "-c", WRITE_AND_WAIT, str(path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert writer.stdout.readline() == "writing\n"
        temporaries = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
        assert len(temporaries) == 1 and temporaries[0].startswith(".checkpoint.npz.")
        save({"x": numpy.full(3, 2.0)}, path)           # another process is writing that one
        assert temporaries[0] in os.listdir(tmp_path)
    finally:
        writer.kill()
        writer.wait()
    assert temporaries[0] in os.listdir(tmp_path)       # the orphan of a killed save
    assert load(path)["x"].tolist() == [2, 2, 2]
    save({"x": numpy.full(3, 3.0)}, path)
    assert os.listdir(tmp_path) == ["checkpoint.npz"] and load(path)["x"].tolist() == [3, 3, 3]


def test_a_temporary_deleted_before_it_was_locked_is_made_again(tmp_path, monkeypatch):
    # Between mkstemp and the lock, another process's save may take the new file for an
    # orphan; the writer must notice and not write into a file that no longer has a name.
    made = []

    def mkstemp_that_loses_its_first_file(**options):
        descriptor, name = original(**options)
        made.append(name)
        if len(made) == 1:
            os.remove(name)
        return descriptor, name

    original = serialization.tempfile.mkstemp
    monkeypatch.setattr(serialization.tempfile, "mkstemp", mkstemp_that_loses_its_first_file)
    save({"x": numpy.ones(3)}, tmp_path / "x.npz")
    assert len(made) == 2 and os.listdir(tmp_path) == ["x.npz"]
    assert load(tmp_path / "x.npz")["x"].tolist() == [1, 1, 1]
