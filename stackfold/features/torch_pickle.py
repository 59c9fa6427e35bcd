"""Read a PyTorch state dict (a ``torch.save`` file of named tensors) into numpy arrays, without torch.

Pretrained weights are often published only as PyTorch files; reading them here keeps torch
(hundreds of MB) out of the install. A ``.pth`` file is a pickle, and unpickling runs whatever
callables the file names, so the unpickler accepts only the few globals a state dict needs
(``collections.OrderedDict``, ``torch._utils._rebuild_tensor[_v2]`` and the typed storages) and
refuses anything else (``os.system``...) before it is called.

Both layouts of ``torch.save`` are read:

* legacy (``_use_new_zipfile_serialization=False``, torch < 1.6): consecutive pickles (magic
  number, protocol version, system info, the state dict, the list of storage keys), then each
  storage in that order as an 8-byte little-endian element count and its raw little-endian bytes;
* zip (torch >= 1.6): ``<name>/data.pkl`` and one raw ``<name>/data/<key>`` entry per storage.
"""

import collections
import functools
import io
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from stackfold.errors import ConfigError

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(dtype).newbyteorder("<")
    for name, dtype in {
        "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
        "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
        "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    }.items()
}
"""numpy dtype of each ``torch.<name>`` storage type (torch writes little-endian)."""


@dataclass(frozen=True)
class _StorageType:
    """What ``torch.FloatStorage`` and the like unpickle to: just the name, looked up in :data:`STORAGE_DTYPES`."""

    name: str


@dataclass(frozen=True)
class _Storage:
    """A storage named by its ``key`` in the file, from element ``start`` (a legacy storage view)."""

    key: str
    dtype: np.dtype
    start: int = 0


@dataclass(frozen=True)
class _Tensor:
    """A tensor as the pickle describes it; its values are read after the pickle (legacy) or beside it (zip)."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    *_: Any) -> _Tensor:
    """Stands in for ``torch._utils._rebuild_tensor[_v2]`` (``requires_grad``, hooks and metadata ignored)."""
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    """Unpickles only state-dict globals; collects the element type of every storage it meets."""

    def __init__(self, file: BinaryIO, path: Path):
        super().__init__(file)
        self.path = path
        self.dtypes: dict[str, np.dtype] = {}

    def find_class(self, module: str, name: str) -> Any:
        # fresh objects, so that a pickle altering them (BUILD) cannot reach other loads
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return functools.partial(_rebuild_tensor)
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise ConfigError(f"{self.path}: refused to load global {module}.{name} (a weights file holds only tensors)")

    def persistent_load(self, pid: Any) -> _Storage:
        # legacy: ('storage', type, key, location, numel, view_metadata); zip: the first five
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.80}")
        key, dtype = str(pid[2]), STORAGE_DTYPES[pid[1].name]
        self.dtypes[key] = dtype
        view = pid[5] if len(pid) == 6 else None
        return _Storage(key, dtype, int(view[1]) if view is not None else 0)


def load_legacy_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Named arrays of the PyTorch state dict at ``path`` (legacy or zip ``torch.save`` layout).

    Tensors come back as C-contiguous copies with their shapes (strides and offsets applied).
    Raises a one-line :class:`ConfigError` naming the file if it holds anything but tensors or
    is truncated or corrupt.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            state, raw = _read_zip(path)
        else:
            with path.open("rb") as file:
                state, raw = _read_legacy(file, path)
        if not isinstance(state, dict) or not all(isinstance(v, _Tensor) for v in state.values()):
            raise ValueError("not a state dict (a mapping of names to tensors)")
        return {str(name): _array(tensor, raw) for name, tensor in state.items()}
    except ConfigError:
        raise
    except (OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, KeyError, TypeError,
            IndexError, AttributeError, OverflowError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(f"{path}: not a readable PyTorch weights file, truncated or corrupt ({reason})") from e


def _read_legacy(file: BinaryIO, path: Path) -> tuple[Any, dict[str, np.ndarray]]:
    """The unpickled state dict and the raw storages of a legacy ``torch.save`` file."""
    if _Unpickler(file, path).load() != MAGIC_NUMBER:
        raise ValueError("no torch.save magic number")
    if (version := _Unpickler(file, path).load()) != PROTOCOL_VERSION:
        raise ValueError(f"torch.save protocol {version!r}, expected {PROTOCOL_VERSION}")
    if not _Unpickler(file, path).load().get("little_endian", False):
        raise ValueError("written on a big-endian machine")
    unpickler = _Unpickler(file, path)
    state = unpickler.load()
    raw = {}
    for key in map(str, _Unpickler(file, path).load()):
        if key not in unpickler.dtypes:
            raise ValueError(f"storage {key} is listed but no tensor uses it")
        dtype = unpickler.dtypes[key]
        count = int.from_bytes(_read_exactly(file, 8), "little")
        raw[key] = np.frombuffer(_read_exactly(file, count * dtype.itemsize), dtype)
    return state, raw


def _read_zip(path: Path) -> tuple[Any, dict[str, np.ndarray]]:
    """The unpickled state dict and the raw storages of a zip ``torch.save`` file."""
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("data.pkl")]
        if len(pickles) != 1:
            raise ValueError(f"{len(pickles)} data.pkl entries in the archive, expected 1")
        prefix = pickles[0].removesuffix("data.pkl")
        if f"{prefix}byteorder" in archive.namelist() and archive.read(f"{prefix}byteorder") != b"little":
            raise ValueError("written on a big-endian machine")
        unpickler = _Unpickler(io.BytesIO(archive.read(pickles[0])), path)
        state = unpickler.load()
        raw = {key: np.frombuffer(archive.read(f"{prefix}data/{key}"), dtype)
               for key, dtype in unpickler.dtypes.items()}
    return state, raw


def _read_exactly(file: BinaryIO, n: int) -> bytes:
    """``n`` bytes, or :class:`EOFError` before reading (a corrupt count would otherwise allocate it)."""
    left = os.fstat(file.fileno()).st_size - file.tell()
    if n > left:
        raise EOFError(f"{n} bytes expected, {left} left in the file")
    return file.read(n)


def _array(tensor: _Tensor, raw: dict[str, np.ndarray]) -> np.ndarray:
    """A copy of the elements ``tensor`` covers, checked to lie inside its storage."""
    values = raw[tensor.storage.key][tensor.storage.start:]
    if values.dtype != tensor.storage.dtype:
        raise ValueError(f"storage {tensor.storage.key} read as two element types")
    if len(tensor.size) != len(tensor.stride) or min((*tensor.size, *tensor.stride, tensor.offset), default=0) < 0:
        raise ValueError(f"bad tensor geometry: size {tensor.size}, stride {tensor.stride}, offset {tensor.offset}")
    if 0 not in tensor.size:
        last = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride))
        if last >= len(values):
            raise ValueError(f"tensor reaches element {last} of a {len(values)}-element storage")
    itemsize = values.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        values[tensor.offset:], shape=tensor.size, strides=[s * itemsize for s in tensor.stride], writeable=False
    )
    return np.array(view, order="C")
