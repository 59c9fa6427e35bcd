"""Check that the synthetic Rakuten twin is about as hard as the real challenge.

Generates the twin (or reuses ``--data`` if it already holds one), then scores three plain
scikit-learn baselines on an 80/20 stratified split of the training rows and checks each
against the band the real data puts it in:

1. TF-IDF word 1-2-grams + logistic regression: weighted F1 in 0.72-0.82
   (real data: 0.771 for logistic regression, 0.811 for a text CNN).
2. Colour features (mean RGB + histograms) + random forest: weighted F1 in 0.15-0.45.
3. Late fusion of (1) and (2), ``log p_text + 0.5 log p_image``: at least 2 points above (1).

Usage: ``python bench/calibration.py --products 20000 --seed 0 [--data DIR] [--image-size 500]``
"""

import argparse
import html
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from stackfold.synthetic import write_demo_data
from stackfold.features.image import color_feature_matrix

SPLIT_SEED = 42
TAG = re.compile(r"<[^>]+>")
TEXT_BAND = (0.72, 0.82)
IMAGE_BAND = (0.15, 0.45)
MIN_FUSION_GAIN = 0.02
FUSION_WEIGHT = 0.5  # fixed a priori, not tuned on the validation rows
EPS = 1e-4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=20000, help="training products to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=500)
    parser.add_argument("--data", type=Path, help="folder of the twin (default: a folder in the temp dir)")
    return parser.parse_args()


def ensure_twin(folder: Path, products: int, seed: int, image_size: int) -> None:
    """Generate the twin into ``folder`` unless a complete one is already there."""
    if (folder / "truth" / "Y_test.csv").exists() and (folder / "X_train_update.csv").exists():
        print(f"reusing the twin in {folder}")
        return
    start = time.perf_counter()
    write_demo_data(folder, products, seed=seed, image_size=image_size)
    print(f"generated {products} products at {image_size} px in {folder}: {time.perf_counter() - start:.1f} s")


def clean_text(designation: pd.Series, description: pd.Series) -> list[str]:
    """Title and description, HTML tags stripped and entities decoded."""
    joined = designation.fillna("") + " " + description.fillna("")
    return [html.unescape(TAG.sub(" ", text)) for text in joined]


def score(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    return f1_score(y_true, y_pred, average="weighted"), accuracy_score(y_true, y_pred)


def main() -> int:
    args = parse_args()
    folder = args.data or Path(tempfile.gettempdir()) / f"stackfold-twin-n{args.products}-s{args.seed}-px{args.image_size}"
    ensure_twin(folder, args.products, args.seed, args.image_size)

    x = pd.read_csv(folder / "X_train_update.csv", index_col=0)
    y = pd.read_csv(folder / "Y_train_CVw08PX.csv", index_col=0)["prdtypecode"].to_numpy()
    if len(x) != args.products:
        print(f"note: {folder} holds {len(x)} training products, not {args.products}")
    texts = np.array(clean_text(x["designation"], x["description"]), dtype=object)
    paths = [folder / "images" / "image_train" / f"image_{i}_product_{p}.jpg" for p, i in zip(x["productid"], x["imageid"])]
    train, valid = train_test_split(np.arange(len(x)), test_size=0.2, stratify=y, random_state=SPLIT_SEED)
    rows: list[tuple[str, float, float, float]] = []

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    text_train = vectorizer.fit_transform(texts[train])
    text_valid = vectorizer.transform(texts[valid])
    text_model = LogisticRegression(C=5.0, max_iter=1000)
    text_model.fit(text_train, y[train])
    text_seconds = time.perf_counter() - start
    rows.append(("text: tf-idf 1-2 + logreg", *score(y[valid], text_model.predict(text_valid)), text_seconds))

    start = time.perf_counter()
    colours = color_feature_matrix(paths)
    feature_seconds = time.perf_counter() - start
    start = time.perf_counter()
    forest = RandomForestClassifier(n_estimators=300, min_samples_leaf=2, n_jobs=2, random_state=0)
    forest.fit(colours[train], y[train])
    rows.append(("image: colour + random forest", *score(y[valid], forest.predict(colours[valid])),
                 feature_seconds + time.perf_counter() - start))

    start = time.perf_counter()
    fused = np.log(text_model.predict_proba(text_valid) + EPS) + FUSION_WEIGHT * np.log(
        forest.predict_proba(colours[valid]) + EPS
    )
    fused_pred = text_model.classes_[fused.argmax(axis=1)]
    rows.append((f"text + image: log p_text + {FUSION_WEIGHT} log p_image", *score(y[valid], fused_pred),
                 text_seconds + rows[1][3] + time.perf_counter() - start))

    print(f"\n{len(train)} train / {len(valid)} validation rows (stratified, random_state={SPLIT_SEED})")
    print(f"{'baseline':<48} {'weighted F1':>11} {'accuracy':>9} {'seconds':>8}")
    for name, f1, acc, seconds in rows:
        print(f"{name:<48} {f1:>11.4f} {acc:>9.4f} {seconds:>8.1f}")
    text_f1, image_f1, fused_f1 = (r[1] for r in rows)
    checks = [
        (f"text F1 in [{TEXT_BAND[0]:.2f}, {TEXT_BAND[1]:.2f}]", TEXT_BAND[0] <= text_f1 <= TEXT_BAND[1]),
        (f"image F1 in [{IMAGE_BAND[0]:.2f}, {IMAGE_BAND[1]:.2f}]", IMAGE_BAND[0] <= image_f1 <= IMAGE_BAND[1]),
        (f"text + image F1 >= text F1 + {MIN_FUSION_GAIN:.2f} (gain {fused_f1 - text_f1:+.4f})",
         fused_f1 >= text_f1 + MIN_FUSION_GAIN),
    ]
    print()
    for name, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
