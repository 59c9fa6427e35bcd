"""Benchmark: what keeping each row's top k classes costs the blends, on a made 5,270-class stack.

    .venv/bin/python bench/topk_tradeoff.py [--rows 20000] [--models 3] [--seeds 0 1] [--ks 5 10 20 50]

The stack is made, not trained: each base model gives ``softmax(signal * onehot(y) + noise)`` over
Cdiscount's 5,270 categories, the noise partly shared between models, also within each level-2 category
of the real tree (mistakes fall on the same neighbouring categories, where top-k matters),
the signals set for single-model accuracy ~0.6-0.75 and a mean of three ~3 points above the best
(the challenge's public write-ups: single CNNs ~0.70-0.75, ensembles ~0.78-0.79).
Labels: every category at least 3 rows (at the challenge's size every category has a dozen or more
products, so every fold's training rows hold every class; a class missing from them would get no
probability from any stacker, dense or top-k), the other rows on a long tail (Zipf, exponent 1).
For every blend (3-fold CV, ``stackfold.core.cv``) it
prints accuracy over dense probabilities and over each k, the loss against dense in points, OOF
bytes a row per model, and the seconds. ``config.DEFAULT_TOP_K`` is chosen from this table
(docs/benchmarks/cdiscount.md).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.special import softmax

from stackfold.competition.folds import make_folds
from stackfold.competition.spec import cdiscount_hierarchy
from stackfold.competition.challenges import cdiscount
from stackfold.core.cv import cross_validate
from stackfold.core.topk import TopK, TopKStack
from stackfold.ensembles.blend import LogPool, MeanBlend, WeightedBlend

SIGNALS = (5.0, 5.3, 5.6)
"""Signal of each base model (cycled): single-model accuracy ~0.59, 0.67, 0.75; their mean ~0.78."""
SHARED, OWN, NEIGHBOURS = 0.8, 0.6, 0.8
"""Noise scales: shared by every model, each model's own, and shared by every model and within a level-2 category
(models confuse the same neighbouring categories)."""
MIN_ROWS = 3
"""Rows of every category: one per fold."""


def made_stack(rows: int, n_models: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """OOF probabilities of ``n_models`` made models (float32, dense), and labels as class positions."""
    rng = np.random.default_rng(seed)
    spec = cdiscount()
    n_classes = spec.n_classes
    tree = cdiscount_hierarchy().reindex(spec.classes)
    parent = tree.iloc[:, 1].astype("category").cat.codes.to_numpy()
    weights = 1.0 / np.arange(1, n_classes + 1)
    if rows < MIN_ROWS * n_classes:
        raise SystemExit(f"--rows {rows}: need at least {MIN_ROWS * n_classes} ({MIN_ROWS} per category)")
    tail = rng.choice(n_classes, size=rows - MIN_ROWS * n_classes, p=weights / weights.sum())
    y = rng.permutation(np.concatenate([np.repeat(np.arange(n_classes), MIN_ROWS), tail]))
    shared = SHARED * rng.standard_normal((len(y), n_classes)).astype(np.float32)
    shared += NEIGHBOURS * rng.standard_normal((len(y), parent.max() + 1)).astype(np.float32)[:, parent]
    probabilities = []
    for m in range(n_models):
        logits = shared + OWN * rng.standard_normal((len(y), n_classes)).astype(np.float32)
        logits[np.arange(len(y)), y] += SIGNALS[m % len(SIGNALS)]
        probabilities.append(softmax(logits, axis=1).astype(np.float32))
        del logits
    return probabilities, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--models", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 10, 20, 50])
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    args = parser.parse_args()
    classes = list(cdiscount().classes)
    figures = []
    print("| seed | blend | form | accuracy | loss vs dense (points; < 0: better) | OOF bytes/row/model | seconds |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for seed in args.seeds:
        oof, y = made_stack(args.rows, args.models, seed)
        labels = np.asarray(classes)[y]
        folds = make_folds(labels, 3, seed)
        singles = [float((p.argmax(axis=1) == y).mean()) for p in oof]
        print(f"| {seed} | single models | dense | {', '.join(f'{a:.4f}' for a in singles)} | | | |")
        forms = {"dense": (None, None)}
        for k in args.ks:
            forms[f"k={k}"] = (k, TopKStack(tuple(TopK.from_dense(p, k) for p in oof)))
        for blend in (MeanBlend, WeightedBlend, LogPool):
            dense_accuracy = None
            for form, (k, stack) in forms.items():
                start = time.perf_counter()
                X = stack if stack is not None else np.hstack(oof)
                result = cross_validate(lambda b=blend: b(classes), X, labels, None, folds, name=blend.name,
                                        quiet=True, top_k=k)
                seconds = time.perf_counter() - start
                accuracy = result.summary()["accuracy"]
                dense_accuracy = accuracy if k is None else dense_accuracy
                per_row = 4 * len(classes) if k is None else stack.parts[0].nbytes / args.rows
                figures.append({"seed": seed, "blend": blend.name, "form": form, "accuracy": accuracy,
                                "loss_points": 100 * (dense_accuracy - accuracy), "bytes_per_row": per_row,
                                "seconds": seconds})
                print(f"| {seed} | {blend.name} | {form} | {accuracy:.4f} | {100 * (dense_accuracy - accuracy):+.2f} "
                      f"| {per_row:,.0f} | {seconds:.1f} |", flush=True)
        del oof, forms
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "models": args.models, "figures": figures}, indent=1))


if __name__ == "__main__":
    main()
