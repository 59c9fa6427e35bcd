"""stackfold: stacked out-of-fold ensembles for multimodal product classification challenges."""

__version__ = "0.1.0"
