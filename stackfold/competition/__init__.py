"""Challenge specs, loading and validating the raw files, folds and metrics."""

from stackfold.competition.detect import detect, detect_from_header
from stackfold.competition.folds import FoldAssignment, SmallClassWarning, load_folds, make_folds, save_folds
from stackfold.competition.load import Dataset, load_competition
from stackfold.competition.metric import classification_scores, weighted_f1
from stackfold.competition.challenges import get_spec, rakuten
from stackfold.competition.spec import CompetitionSpec

__all__ = [
    "CompetitionSpec",
    "Dataset",
    "FoldAssignment",
    "SmallClassWarning",
    "classification_scores",
    "detect",
    "detect_from_header",
    "get_spec",
    "load_competition",
    "load_folds",
    "make_folds",
    "rakuten",
    "save_folds",
    "weighted_f1",
]
