"""Feature builders on real inputs: HTML of the real sample, the 20 real images."""

import numpy as np
import pytest

from stackfold.competition import load_competition, rakuten
from stackfold.errors import DataError
from stackfold.features.image import color_feature_matrix, color_feature_names, load_thumbnail
from stackfold.features.store import FeatureStore
from stackfold.features.text import strip_html, title_descr


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("Caract&eacute;ristiques<br />Mod&egrave;le", "Caractéristiques Modèle"),
        ("<p>Lot de 2</p><p>&#43; bonus</p>", "Lot de 2 + bonus"),
        ("  plain   text ", "plain text"),
        ("", ""),
        ("<b>unclosed <i>tags", "unclosed tags"),
        ("3 < 5 & 7 > 2", "3 < 5 & 7 > 2"),
        ("🙂🙂", "🙂🙂"),
    ],
)
def test_strip_html(raw, clean):
    assert strip_html(raw) == clean


def test_title_descr_on_real_sample(rakuten_sample):
    data = load_competition(rakuten_sample, rakuten(), images=False)
    texts = title_descr(data.train)
    assert len(texts) == 300
    assert texts[0].startswith("Olivia: Personalisiertes Notizbuch")  # empty description adds nothing
    assert not any("<br" in t or "&eacute;" in t for t in texts)
    assert "Speedlink" in texts[2] and "Caractéristiques: Modèle" in texts[2]


def test_color_features_of_real_images(rakuten_sample):
    paths = sorted((rakuten_sample / "images" / "image_train").glob("*.jpg"))
    assert len(paths) == 20
    features = color_feature_matrix(paths)
    assert features.shape == (20, len(color_feature_names())) and features.dtype == np.float32
    assert np.all((features >= 0) & (features <= 1))
    assert np.allclose(features[:, 3:].reshape(20, 3, 8).sum(axis=2), 1.0, atol=1e-5)
    assert load_thumbnail(paths[0]).shape == (64, 64, 3)


@pytest.mark.parametrize(
    "content, pattern",
    [(b"", r"not a readable image"), (b"GIF89a garbage", r"not a readable image"), (None, r"image file not found")],
)
def test_bad_images_name_the_file(tmp_path, content, pattern):
    path = tmp_path / "image_1_product_2.jpg"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=rf"image_1_product_2\.jpg: {pattern}"):
        load_thumbnail(path)


def test_title_view_is_the_first_text_column_alone(rakuten_sample, tmp_path):
    data = load_competition(rakuten_sample, rakuten(), images=False)
    store = FeatureStore(data, tmp_path)
    (text, _), (title, _) = store.get("text"), store.get("title")
    assert len(title) == len(text) == 300
    assert title["tokens"].iloc[0].startswith("olivia personalisiertes notizbuch")
    assert all(set(t.split()) <= set(w.split()) for t, w in zip(title["tokens"], text["tokens"]))  # a part of it
    counts, _ = store.get("title_counts")
    assert counts.shape[0] == 300 and 0 < counts.shape[1] < store.get("word_counts")[0].shape[1]
