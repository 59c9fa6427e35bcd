"""How the text views are built: cleaned text and tokens, the title alone, n-gram counts, sentence vectors.

Each builder takes the :class:`~stackfold.features.view_source.ViewSource` building it and the view's
parameters, and gives its train and test blocks (see :mod:`stackfold.features.views`).
"""

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from stackfold.core.blocks import Block
from stackfold.core.params import declare
from stackfold.features.counts import count_over, count_terms
from stackfold.features.image_cache import ResumableArray
from stackfold.features.language import LANGUAGE_FLAG_NAMES, detect_languages, language_flags
from stackfold.features.sentence import N_FEATURES as SENTENCE_FEATURES
from stackfold.features.sentence import SentenceEncoder, encode_texts, sentence_inputs
from stackfold.features.text import title_descr
from stackfold.features.tokens import normalise_texts, token_lengths
from stackfold.features.view_source import PARTIAL_SUFFIX, ViewSource, split_frame
from stackfold.progress import console

NORMALISATION = declare({"lemmatize": True, "remove_stop_words": False, "fold_accents": True, "token_pattern": r"\w+"})
"""How the ``text`` and ``title`` views normalise tokens (:func:`~stackfold.features.tokens.normalise`)."""


def text_rows(frame: pd.DataFrame, columns: tuple[str, ...], params: dict[str, Any], split: str,
              languages: tuple[str, ...] = ("fr", "en")) -> pd.DataFrame:
    """The ``text`` view's rows of ``frame``: each row is computed from its own product alone, so
    row partitions concatenated (with a fresh index) are the whole split's view. ``languages``: the
    challenge's (:func:`~stackfold.features.language.detect_languages`)."""
    text = title_descr(frame, columns, f"cleaning text ({split})")
    languages = detect_languages(text, threshold=params["language_threshold"], declared=languages)
    tokens = normalise_texts(
        text, languages, lemmatize=params["lemmatize"], remove_stop_words=params["remove_stop_words"],
        fold_accents=params["fold_accents"], token_pattern=params["token_pattern"],
    )
    rows = pd.DataFrame({"text": text, "tokens": tokens, "language": languages, "token_len": token_lengths(tokens)})
    rows[list(LANGUAGE_FLAG_NAMES)] = language_flags(languages)
    return rows


def build_title(store: ViewSource, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The challenge's title column cleaned and normalised alone, in the language found for the whole text (empty
    texts when the challenge has no title column: the title blocks then hold no term)."""
    title = store.dataset.spec.title_column
    column = (title,) if title else ()
    frames = []
    for split, whole in zip(("train", "test"), store.get("text")):
        cleaned = title_descr(split_frame(store.dataset, split), column, f"cleaning titles ({split})")
        tokens = normalise_texts(cleaned, whole["language"].to_numpy(), lemmatize=params["lemmatize"],
                                 remove_stop_words=params["remove_stop_words"], fold_accents=params["fold_accents"],
                                 token_pattern=params["token_pattern"])
        frames.append(pd.DataFrame({"text": cleaned, "tokens": tokens}))
    return frames[0], frames[1]


def build_text(store: ViewSource, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``text`` view of both splits (:func:`text_rows`), on the cluster when there is one."""
    columns, languages = store.dataset.spec.text_columns, store.dataset.spec.languages
    frames = []
    for split in ("train", "test"):
        products = split_frame(store.dataset, split)[list(columns)]
        rows = partial(text_rows, columns=columns, params=params, split=split, languages=languages)
        frames.append(rows(products) if store.extraction is None else store.extraction.frame_rows(products, rows))
    return frames[0], frames[1]


def build_sentence(store: ViewSource, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors of both splits, encoded resumably into the view's folder (on the cluster when there is one)."""
    encoder = SentenceEncoder(store.n_jobs)
    columns = store.dataset.spec.text_columns
    blocks = []
    for split in ("train", "test"):
        texts = sentence_inputs(split_frame(store.dataset, split), columns, params["description_chars"])
        path = store.folder("sentence") / f"{split}{PARTIAL_SUFFIX}"
        if store.extraction is None:
            blocks.append(encode_texts(texts, encoder, path, params["batch_size"], split))
            continue
        array = ResumableArray(path, (len(texts), SENTENCE_FEATURES), "float32")
        store.extraction.sentence_rows(texts, array, params["batch_size"])
        blocks.append(array.result())
    return blocks[0], blocks[1]


def counts_builder(name: str, column: str, source: str = "text",
                   **vectorizer: Any) -> Callable[[ViewSource, dict[str, Any]], tuple[Block, Block]]:
    """The builder of count view ``name`` over view ``source``'s ``column``: its vocabulary is learned from the
    run's texts (train and test, a pure count: no label is read) and kept; rows predicted later are counted over
    that vocabulary."""

    def build(store: ViewSource, params: dict[str, Any]) -> tuple[Block, Block]:
        train, test = store.get(source)
        texts = pd.concat([train[column], test[column]]).to_numpy(dtype=object)
        options = {**vectorizer, "ngram_range": (params["ngram_min"], params["ngram_max"]), "lowercase": True,
                   "dtype": np.float32}
        learned = store.learned(name)
        if learned is not None:
            counts = count_over(learned, texts, options)
        else:
            with console.status(f"counting n-grams of {column} ({len(texts)} texts)"):
                counts, terms = count_terms(texts, options, params["min_df"])
            if not len(terms):
                console.print(f"[yellow]warning[/yellow]: no n-gram of {column} is in {params['min_df']} texts; "
                              "the models reading it learn the class prior only")
            store.learn(name, terms)
        return counts[: len(train)], counts[len(train):]

    return build


