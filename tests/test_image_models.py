"""Image models: per-image training averaged per product, streamed pixels, reproducibility, fusion's OOF honesty."""

from functools import partial

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from stackfold.competition.challenges import rakuten
from stackfold.core.blocks import ImageBlock, Views, take_rows
from stackfold.core.cv import cross_validate
from stackfold.core.tf_runtime import keras
from stackfold.models import BASE_MODELS
from stackfold.models.fusion import Fusion
from stackfold.models.image_cnn import CNN
from stackfold.models.image_vgg import VggNN
from stackfold.models.per_image import PerImageModel
from stackfold.models.text_nn import TextNN
from stackfold.models.vgg_fusion import VggFusion

CLASSES = np.array(rakuten().classes)
PER_CLASS = 6
SIZE = 32
IMAGE_MODELS = ["color_forest", "pixel_forest", "pixel_svc", "cnn", "vgg_nn", "vgg_fusion", "efficientnet_logreg",
                "efficientnet_svc", "efficientnet_nn", "fusion"]


def _data(images_per_product: int, seed: int = 0) -> tuple[Views, np.ndarray, np.ndarray]:
    """Views of ``PER_CLASS`` products per class, with 1..``images_per_product`` images each; labels; owners."""
    rng = np.random.default_rng(seed)
    y = np.repeat(CLASSES, PER_CLASS)
    position = np.repeat(np.arange(len(CLASSES)), PER_CLASS)
    owner = np.repeat(np.arange(len(y)), 1 + np.arange(len(y)) % images_per_product)
    lattice = np.stack(np.meshgrid(*[[0, 110, 220]] * 3, indexing="ij"), axis=-1).reshape(-1, 3)  # 27 colours
    colour = lattice[position[owner]]
    images = (colour[:, None, None, :] + rng.integers(0, 36, size=(len(owner), SIZE, SIZE, 3))).astype(np.uint8)
    color = rng.normal(size=(len(owner), 27)).astype(np.float32)
    color[:, :3] += colour / 50
    vgg16 = rng.normal(size=(len(owner), 512)).astype(np.float32)
    vgg16[:, : 8 * len(CLASSES)] += 2.0 * np.repeat(np.eye(len(CLASSES)), 8, axis=1)[position[owner]]
    efficientnet = np.hstack([vgg16, rng.normal(size=(len(owner), 64)).astype(np.float32)])
    sentence = rng.normal(size=(len(y), 512)).astype(np.float32)
    sentence[:, : 4 * len(CLASSES)] += np.repeat(np.eye(len(CLASSES)), 4, axis=1)[position]
    texts = [f"mot{c} mot{c}b commun {rng.choice(['rouge', 'vert'])}" for c in y]
    blocks = {
        "color": color,
        "pixels": images[:, ::4, ::4, :].reshape(len(owner), -1).astype(np.float32) / 255,
        "images": images,
        "vgg16": vgg16,
        "efficientnet": efficientnet,
    }
    views = {name: ImageBlock.whole(data, owner, len(y)) for name, data in blocks.items()}
    views["sentence"] = sentence
    views["word_counts"] = CountVectorizer(dtype=np.float32).fit_transform(texts)
    return Views(views), y, owner


def _folds(y: np.ndarray) -> np.ndarray:
    """Three folds over products, stratified by class."""
    return np.arange(len(y)) % PER_CLASS % 3


FEW_STEPS = {"epochs": 6, "batch_size": 16}  # enough to learn the tiny data, fast
FAST = {"cnn": FEW_STEPS, "vgg_nn": FEW_STEPS, "efficientnet_nn": FEW_STEPS, "sentence_nn": FEW_STEPS,
        "vgg_fusion": {f"{p}{key}": value for p in ("", "text_", "image_") for key, value in FEW_STEPS.items()},
        "fusion": {f"{p}{key}": value for p in ("", "text_") for key, value in FEW_STEPS.items()}}


def _model(name: str, **params):
    return partial(BASE_MODELS[name], classes=CLASSES, seed=0, n_jobs=1, **{**FAST.get(name, {}), **params})


@pytest.mark.slow
@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_image_model_cross_validates_products_with_several_images(name):
    views, y, _ = _data(images_per_product=3)
    X = Views({view: views[view] for view in BASE_MODELS[name].views})
    X_test = take_rows(X, np.arange(10))
    result = cross_validate(_model(name), X, y, X_test, _folds(y), name=name)

    assert result.oof.shape == (len(y), len(CLASSES)) and result.test.shape == (10, len(CLASSES))
    assert not np.isnan(result.oof).any() and np.allclose(result.oof.sum(axis=1), 1.0)
    assert result.scores["accuracy"].mean() > 3 / len(CLASSES)  # learns the label-coloured images


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in IMAGE_MODELS if issubclass(BASE_MODELS[n], PerImageModel)])
def test_a_product_gets_the_mean_of_its_images_probabilities(name):
    views, y, owner = _data(images_per_product=3)
    model_class = BASE_MODELS[name]
    block = views[model_class.image_view]
    model = _model(name)().fit(Views({model_class.image_view: block}), y)

    per_image = ImageBlock(block.data, block.rows, np.arange(block.n_images), block.n_images)
    image_proba = model.predict_proba(Views({model_class.image_view: per_image}))
    product_proba = model.predict_proba(Views({model_class.image_view: block}))
    expected = np.stack([image_proba[owner == p].mean(axis=0) for p in range(len(y))])
    assert np.allclose(product_proba, expected, atol=1e-6)


class _ReadLog(np.memmap):
    """A memory map that records how many images each read returns."""

    reads: list[int] = []

    def __getitem__(self, index):
        out = super().__getitem__(index)
        if np.ndim(out) == 4:
            _ReadLog.reads.append(len(out))
        return out


@pytest.mark.slow
def test_cnn_streams_a_memory_map_in_batches_and_same_seed_gives_same_bytes(tmp_path):
    views, y, owner = _data(images_per_product=2)
    np.save(tmp_path / "images.npy", views["images"].data)
    mapped = np.load(tmp_path / "images.npy", mmap_mode="r").view(_ReadLog)
    X = Views({"images": ImageBlock.whole(mapped, owner, len(y))})
    train, new = np.flatnonzero(_folds(y) != 0), np.flatnonzero(_folds(y) == 0)

    _ReadLog.reads = []
    fit = partial(CNN, classes=CLASSES, seed=3, n_jobs=1, batch_size=32, epochs=4)
    proba = fit().fit(take_rows(X, train), y[train]).predict_proba(take_rows(X, new))
    assert _ReadLog.reads and max(_ReadLog.reads) <= 32, "images must be read batch by batch"
    again = fit().fit(take_rows(X, train), y[train]).predict_proba(take_rows(X, new))
    assert proba.tobytes() == again.tobytes()


@pytest.mark.slow
def test_vgg_fusion_embeds_held_out_and_stopping_rows_with_nets_that_never_saw_them(monkeypatch):
    views, y, owner = _data(images_per_product=2)
    X = Views({view: views[view] for view in VggFusion.views})
    folds = _folds(y)

    def recording(fit):
        def recorded(self, X, y):
            self.trained_on_ = set(owner[X["vgg16"].rows])  # the image rows name their original products
            fit(self, X, y)
        return recorded

    fitted: list[VggFusion] = []

    def fusion_fit(self, X, y):
        original_fusion_fit(self, X, y)
        fitted.append(self)

    original_fusion_fit = VggFusion._fit
    monkeypatch.setattr(TextNN, "_fit", recording(TextNN._fit))
    monkeypatch.setattr(VggNN, "_fit", recording(VggNN._fit))
    monkeypatch.setattr(VggFusion, "_fit", fusion_fit)
    model = _model("vgg_fusion", epochs=2, text_epochs=2, image_epochs=2, validation_fraction=0.5)
    cross_validate(model, X, y, take_rows(X, np.arange(4)), folds, name="per_image")

    assert len(fitted) == 3
    for fold, model in enumerate(fitted):
        training = set(np.flatnonzero(folds != fold))
        # the head stops on training rows the nets never saw: held out from them like the fold's own
        assert model.text_.trained_on_ == model.image_.trained_on_
        assert model.text_.trained_on_ < training and len(training - model.text_.trained_on_) == len(CLASSES) * 2


@pytest.mark.slow
def test_fusion_text_net_never_sees_the_rows_its_head_stops_on(monkeypatch):
    views, y, _ = _data(images_per_product=2)
    X = Views({view: views[view] for view in Fusion.views})
    seen: list[int] = []
    original = TextNN._fit

    def recorded(self, X, y):
        seen.append(len(y))
        original(self, X, y)

    monkeypatch.setattr(TextNN, "_fit", recorded)
    model = _model("fusion", tfidf_net=True, validation_fraction=0.5)().fit(X, y)

    assert seen == [len(y) - len(CLASSES) * PER_CLASS // 2]  # half of each class held out for the head's stopping
    assert model.predict_proba(take_rows(X, np.arange(5))).shape == (5, len(CLASSES))


SETTINGS = {"Conv2D": ("filters", "kernel_size", "strides", "padding", "activation"),
            "MaxPooling2D": ("pool_size", "strides", "padding"), "Dense": ("units", "activation"), "Dropout": ("rate",)}


def _layers(model) -> list[tuple]:
    """Type and defining settings of every layer."""
    return [(type(layer).__name__, *(layer.get_config()[key] for key in SETTINGS.get(type(layer).__name__, ())))
            for layer in model.layers]


def test_cnn_is_the_published_lenet():
    model = CNN(classes=CLASSES).network(keras(1, 0), (100, 100, 3), len(CLASSES))
    assert _layers(model) == [
        ("Conv2D", 8, (3, 3), (1, 1), "same", "relu"),
        ("MaxPooling2D", (2, 2), (2, 2), "valid"),
        ("Conv2D", 32, (5, 5), (2, 2), "valid", "relu"),
        ("MaxPooling2D", (2, 2), (2, 2), "valid"),
        ("Dropout", 0.4),
        ("Flatten",),
        ("Dense", 512, "relu"),
        ("Dropout", 0.7),
        ("Dense", 128, "relu"),
        ("Dense", 27, "softmax"),
    ]
    assert model.get_layer(index=5).output.shape == (None, 11 * 11 * 32)


def test_vgg_head_and_fusion_head_are_the_published_ones():
    k = keras(1, 0)
    head_model = VggNN(classes=CLASSES)
    head_model.mean_, head_model.variance_ = np.zeros(512), np.ones(512)  # the training fold's, set by fit
    vgg = head_model.network(k, (512,), len(CLASSES))
    assert _layers(vgg) == [("Normalization",), ("Dropout", 0.2), ("Dense", 512, "relu"), ("Dropout", 0.2), ("Dense", 256, "relu"),
                            ("Dropout", 0.2), ("Dense", 27, "softmax")]
    assert vgg.get_layer("embedding").units == 256
    head = VggFusion(classes=CLASSES).network(k, 512, len(CLASSES))
    assert _layers(head) == [("BatchNormalization",), ("Dense", 1024, "relu"), ("BatchNormalization",),
                             ("Dropout", 0.25), ("Dense", 1024, "relu"), ("BatchNormalization",), ("Dropout", 0.5),
                             ("Dense", 27, "softmax")]


@pytest.mark.parametrize("owner, n_products", [
    ([2, 0, 1], 3),  # one image a product, out of order: only reordered, in the rows' own float type
    ([0, 0, 2, 2, 2], 4),  # several images, and a product with none (uniform row)
])
def test_per_product_means_match_the_definition(owner, n_products):
    rows = np.random.default_rng(0).random((len(owner), 4)).astype(np.float32)
    block = ImageBlock.whole(rows, np.array(owner), n_products)
    expected = np.array([rows[np.array(owner) == p].mean(axis=0, dtype=np.float64) if p in owner else np.full(4, 0.25)
                         for p in range(n_products)])
    means = block.per_product(rows)
    np.testing.assert_allclose(means, expected, rtol=1e-6)
    assert means.dtype == (np.float32 if len(set(owner)) == len(owner) == n_products else np.float64)
