"""Saving and loading: `minicnn.save(obj, path)` and `minicnn.load(path)`, without pickle.

`obj` is a dict: a model's state_dict ({"conv1.weight": Tensor, ...}), an optimizer's
state_dict, or a whole training checkpoint nesting such dicts with lists, tuples, numbers,
strings, booleans and None. Two file formats, chosen by the file name:

* `.npz` (any name not ending in .safetensors): NumPy's zip of `.npy` arrays. Each array is
  stored under its path in the nesting, joined with SEPARATOR ("/"): a checkpoint
  {"optimizer": {"state": {0: {"exp_avg": a}}}} stores `a` as "optimizer/state/0/exp_avg", so
  `numpy.load(path)` alone can read every array. Everything else (the nesting itself, key
  types, numbers, strings, which arrays were Tensors) is a JSON document stored as a uint8
  array under the reserved name METADATA_KEY. A plain `.npz` written by
  `numpy.savez(path, **{k: v.numpy() for k, v in torch_model.state_dict().items()})` has no
  metadata and loads as a flat {name: Tensor} dict.
* `.safetensors`: the format of Hugging Face's `safetensors` library (a flat dict of named
  arrays), written and read here without that library:
      8 bytes   little-endian uint64 N
      N bytes   JSON header {name: {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}}
      the rest  raw little-endian bytes; array `name` is bytes b..e of this part

Why no pickle: unpickling a file runs any code its author put in it, so a downloaded
checkpoint could take over the machine. Both formats here contain only data;
numpy.load is always called with allow_pickle=False.

Files are written atomically: into a temporary file `.NAME.XXXXXXXX.tmp` in the same
directory, flushed and fsync-ed to disk, then renamed over the target with os.replace. A
crash or an error halfway leaves the old file as it was, never a half-written one. The
temporary is locked while it is written (POSIX `flock`, which the system releases when its
process dies), so the next save of the same name can tell the temporaries of a killed save
(unlocked) from those another process is still writing (locked), and delete only the first.
"""
import contextlib
import hashlib
import io
import json
import math
import os
import stat
import tempfile
import zipfile

try:
    import fcntl
except ImportError:      # not POSIX: no locks, so no cleaning of orphaned temporaries either
    fcntl = None

import numpy

from .autograd import Tensor
from .backend import to_numpy

SEPARATOR = "/"
METADATA_KEY = "__minicnn__"
FORMAT = "minicnn.npz/1"


def save(obj, path):
    """Write the dict `obj` to `path` (.npz, or .safetensors for a flat dict of arrays)."""
    path = os.fspath(path)
    if not isinstance(obj, dict):
        raise TypeError(f"save: expected a dict (a state_dict or a checkpoint of them), got "
                        f"{type(obj).__name__}; wrap it, e.g. save({{'x': x}}, path)")
    # Encode everything before the file is touched, so a bad object changes nothing on disk.
    if _is_safetensors(path):
        payload = _encode_safetensors(obj)
        write_atomically(path, lambda file: file.write(payload))
    else:
        arrays = {}
        tree = _encode(obj, "", arrays)
        metadata = json.dumps({"format": FORMAT, "tree": tree}).encode("utf-8")
        arrays[METADATA_KEY] = numpy.frombuffer(metadata, dtype=numpy.uint8)
        write_atomically(path, lambda file: _write_npz(file, arrays))


def load(path, sha256=None):
    """Read a file written by `save` (or a plain .npz / .safetensors of arrays).

    Arrays come back as CPU Tensors (or NumPy arrays where NumPy arrays were saved);
    load a model's state with `model.load_state_dict(minicnn.load(path))`, which moves them
    to the model's device. `sha256`: the hex digest the file must have (a file shipped or
    downloaded with a published hash); the bytes that are checked are the bytes decoded, and
    a mismatch raises ValueError before anything is decoded.
    """
    path = os.fspath(path)
    with open(path, "rb") as file:           # a missing file raises FileNotFoundError here
        data = file.read()
    if sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256.lower():
            raise ValueError(f"load: {path} has sha256 {digest}, expected {sha256}: the file "
                             "is damaged or was changed, so it was not read")
    if _is_safetensors(path):
        return _decode_safetensors(data, path)
    if not data.startswith(b"PK"):
        raise ValueError(f"load: {path} is not an .npz file (it does not start with the zip "
                         f"signature 'PK', it starts with {data[:8]!r}); minicnn reads .npz "
                         "files and, by their extension, .safetensors files")
    arrays = _read_npz(data, path)
    if METADATA_KEY not in arrays:
        return {name: Tensor(array) for name, array in arrays.items()}
    try:
        metadata = json.loads(arrays.pop(METADATA_KEY).tobytes().decode("utf-8"))
        if metadata.get("format") != FORMAT:
            raise ValueError(f"unknown format {metadata.get('format')!r}, expected {FORMAT!r}")
        return _decode(metadata["tree"], arrays)
    except RecursionError:
        raise ValueError(f"load: {path} has damaged minicnn metadata (nested too deeply to "
                         "read)") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"load: {path} has damaged minicnn metadata ({error})") from error


# --- the nesting <-> JSON + named arrays ----------------------------------------------------
# Every container and every array becomes a one-key JSON object naming its kind, so that
# key types (the int parameter indices of an optimizer state), tuples and Tensors survive.

def _encode(node, key, arrays):
    if isinstance(node, Tensor) or _is_array(node):
        array = to_numpy(node.data if isinstance(node, Tensor) else node)
        if array.dtype.hasobject:
            raise TypeError(f"save: '{key}' is an array of Python objects, which only pickle "
                            "could store; convert it to numbers or strings")
        if key in arrays:
            raise ValueError(f"save: two entries would both be stored as '{key}'")
        arrays[key] = array
        return {"tensor" if isinstance(node, Tensor) else "array": key}
    if isinstance(node, dict):
        return {"dict": [[name, _encode(value, _join(key, name), arrays)]
                         for name, value in node.items()]}
    if isinstance(node, (list, tuple)):
        kind = "list" if isinstance(node, list) else "tuple"
        return {kind: [_encode(value, _join(key, str(i)), arrays) for i, value in enumerate(node)]}
    if isinstance(node, numpy.generic):          # NumPy scalars such as numpy.float32(0.5)
        return _encode(node.item(), key, arrays)
    if node is None or isinstance(node, (bool, int, float, str)):
        return {"value": node}
    raise TypeError(f"save: cannot store '{key}' of type {type(node).__name__}; expected "
                    "Tensors, arrays, dicts, lists, tuples, numbers, strings, booleans or None")


def _join(prefix, name):
    if isinstance(name, bool) or not isinstance(name, (str, int)):
        raise TypeError(f"save: dict keys must be strings or integers, got {name!r} "
                        f"({type(name).__name__}) in '{prefix}'")
    name = str(name)
    if SEPARATOR in name or name == METADATA_KEY:
        raise ValueError(f"save: the key {name!r} in '{prefix}' contains {SEPARATOR!r} or is "
                         f"the reserved name {METADATA_KEY!r}")
    return f"{prefix}{SEPARATOR}{name}" if prefix else name


def _decode(node, arrays):
    (kind, content), = node.items()
    if kind == "tensor":
        return Tensor(arrays[content])
    if kind == "array":
        return arrays[content]
    if kind == "dict":
        return {name: _decode(value, arrays) for name, value in content}
    if kind in ("list", "tuple"):
        values = [_decode(value, arrays) for value in content]
        return values if kind == "list" else tuple(values)
    if kind == "value":
        return content
    raise ValueError(f"unknown entry kind {kind!r}")


def _is_array(value):
    return hasattr(value, "dtype") and hasattr(value, "shape") and not isinstance(value, numpy.generic)


def _write_npz(file, arrays):
    """What numpy.savez writes, with pickling refused and any key allowed (savez's own
    keyword arguments, such as `file`, would clash with keys of the same name)."""
    with zipfile.ZipFile(file, "w") as archive:
        for name, array in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                numpy.lib.format.write_array(member, array, allow_pickle=False)


def _read_npz(data, path):
    """Every array of the .npz file whose bytes are `data`; a damaged file raises one clear
    error."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_declared_sizes(archive, len(data))
        with numpy.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, KeyError) as error:
        raise ValueError(f"load: {path} is a damaged or truncated .npz file "
                         f"({type(error).__name__}: {error})") from error


# Deflate shrinks data at most about 1032-fold, so a deflated member cannot hold more.
_MOST_EACH_COMPRESSION_EXPANDS = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: 1032}


def _check_declared_sizes(archive, file_size):
    """Refuse a member whose .npy header declares more bytes than it holds, or which claims
    to unpack to more than its compressed bytes can: NumPy allocates the declared array
    before it reads, so a 37 MB file declaring 8 GiB would otherwise end in a MemoryError."""
    for member in archive.infolist():
        expansion = _MOST_EACH_COMPRESSION_EXPANDS.get(member.compress_type)
        if expansion is None:
            raise ValueError(f"member {member.filename!r} uses zip compression method "
                             f"{member.compress_type}; .npz files are stored or deflated")
        if (member.compress_size > file_size
                or member.file_size > member.compress_size * expansion):
            raise ValueError(f"member {member.filename!r} claims {member.file_size} bytes "
                             f"from {member.compress_size} compressed bytes in a file of "
                             f"{file_size} bytes")
        with archive.open(member) as stream:
            version = numpy.lib.format.read_magic(stream)
            read_header = (numpy.lib.format.read_array_header_1_0 if version == (1, 0)
                           else numpy.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(stream)
            held = member.file_size - stream.tell()
        declared = math.prod(shape) * dtype.itemsize
        if not dtype.hasobject and declared != held:     # object arrays: numpy refuses them
            raise ValueError(f"member {member.filename!r} declares an array of shape "
                             f"{shape} and dtype {dtype} ({declared} bytes) but holds "
                             f"{held} bytes")


# --- safetensors ------------------------------------------------------------------------------
_SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64",
                       "I32": "int32", "I16": "int16", "I8": "int8", "U64": "uint64",
                       "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool"}
_SAFETENSORS_NAMES = {numpy.dtype(dtype): name for name, dtype in _SAFETENSORS_DTYPES.items()}


def _is_safetensors(path):
    return path.endswith(".safetensors")


def _encode_safetensors(obj):
    header, chunks, offset = {}, [], 0
    for name, value in obj.items():
        if not isinstance(name, str) or not (isinstance(value, Tensor) or _is_array(value)):
            raise TypeError(f"save: a .safetensors file holds a flat dict of named arrays, but "
                            f"entry {name!r} is a {type(value).__name__}; save nested "
                            "checkpoints as .npz")
        array = to_numpy(value.data if isinstance(value, Tensor) else value)
        if array.dtype not in _SAFETENSORS_NAMES:
            raise TypeError(f"save: dtype {array.dtype} of {name!r} has no safetensors name")
        raw = numpy.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _SAFETENSORS_NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)              # the data then starts 8-byte aligned
    return len(text).to_bytes(8, "little") + text + b"".join(chunks)


def _decode_safetensors(data, path):
    def damaged(why):
        return ValueError(f"load: {path} is not a valid .safetensors file: {why}")

    if len(data) < 8:
        raise damaged(f"it has {len(data)} bytes, fewer than the 8-byte header length")
    header_length = int.from_bytes(data[:8], "little")
    if header_length > len(data) - 8:
        raise damaged(f"the header length {header_length} exceeds the {len(data) - 8} bytes "
                      "that follow (truncated?)")
    try:
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise damaged(f"the header is not JSON ({error})") from error
    except RecursionError:
        raise damaged("the header's JSON is nested too deeply to read") from None
    if not isinstance(header, dict):
        raise damaged("the header is not a JSON object")
    buffer = memoryview(data)[8 + header_length:]
    result, spans = {}, []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype_name, shape, (begin, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
            if not all(isinstance(n, int) and n >= 0 for n in [*shape, begin, end]):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise damaged(f"entry {name!r} needs a dtype, a shape and data_offsets of "
                          f"non-negative integers, got {entry!r}") from None
        if dtype_name == "BF16":   # NumPy has no bfloat16: widen to float32 (exact)
            dtype, stored = numpy.dtype("float32"), numpy.dtype("<u2")
        elif dtype_name in _SAFETENSORS_DTYPES:
            dtype = numpy.dtype(_SAFETENSORS_DTYPES[dtype_name])
            stored = dtype.newbyteorder("<")
        else:
            raise damaged(f"entry {name!r} has unsupported dtype {dtype_name!r}")
        size = math.prod(shape) * stored.itemsize
        if not begin <= end <= len(buffer) or end - begin != size:
            raise damaged(f"entry {name!r} ({dtype_name}, shape {shape}) needs {size} bytes but "
                          f"data_offsets are [{begin}, {end}] in a data part of {len(buffer)} bytes")
        spans.append((begin, end, name))
        array = numpy.frombuffer(buffer[begin:end], dtype=stored).reshape(shape)
        if dtype_name == "BF16":
            array = (array.astype(numpy.uint32) << 16).view(numpy.float32)
        result[name] = Tensor(array.astype(dtype))   # a native-order, writable copy
    # The format requires the entries to tile the data part exactly: an overlap would make
    # two arrays share bytes, and a hole could hide other content (a polyglot file).
    covered = 0
    for begin, end, name in sorted(spans):
        if begin != covered:
            raise damaged(f"entry {name!r} starts at byte {begin}, but the entries before it "
                          f"end at byte {covered}: " + ("they overlap" if begin < covered
                                                         else "a hole lies between"))
        covered = end
    if covered != len(buffer):
        raise damaged(f"the entries end at byte {covered} of a data part of {len(buffer)} "
                      "bytes: a hole lies at the end")
    return result


# --- atomic writes ------------------------------------------------------------------------------
def write_atomically(path, write):
    """Run write(file) on a locked temporary file beside `path` (opened "wb"), fsync it, then
    rename it over `path`; first delete the unlocked temporaries a killed save left there."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write {path}: the directory {directory} does not exist")
    prefix = f".{os.path.basename(path)}."
    _remove_orphaned_temporaries(directory, prefix)
    descriptor, temporary = _locked_temporary(directory, prefix)
    # The lock belongs to the open file, not to one descriptor: this duplicate holds it after
    # the file object is closed, until the temporary has its final name.
    lock = os.dup(descriptor) if fcntl else None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file private (0600); keep the old file's mode, or use rw-r--r--.
        mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else 0o644
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    finally:
        if lock is not None:
            os.close(lock)
    _fsync_directory(directory)


def _locked_temporary(directory, prefix):
    """(descriptor, path) of a new file `prefix + XXXXXXXX.tmp`, locked where locks exist."""
    while True:
        descriptor, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
        if fcntl is None:
            return descriptor, temporary
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        # In the instant before the lock, another save may have taken the file for an
        # orphan and deleted it; then make another.
        with contextlib.suppress(FileNotFoundError):
            if os.path.samestat(os.fstat(descriptor), os.stat(temporary)):
                return descriptor, temporary
        os.close(descriptor)


def _remove_orphaned_temporaries(directory, prefix):
    """Delete the files `prefix + *.tmp` that no process holds locked: a save was killed
    while writing them."""
    if fcntl is None:
        return
    for name in os.listdir(directory):
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        candidate = os.path.join(directory, name)
        try:
            descriptor = os.open(candidate, os.O_RDONLY)
        except OSError:          # already gone, or not ours to read
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with contextlib.suppress(FileNotFoundError):
                os.remove(candidate)
        except BlockingIOError:  # locked: another process is writing it
            pass
        finally:
            os.close(descriptor)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); directories cannot be opened on Windows."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
