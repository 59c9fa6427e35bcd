"""The version of stackfold: part of every content key, and written into saved models."""

__version__ = "0.1.0"
