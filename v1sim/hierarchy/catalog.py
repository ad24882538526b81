"""The hierarchy models and the classifiers each offers, by name (numpy-free: a command line can list them cheaply)."""

from __future__ import annotations

__all__ = ["CLASSIFIERS"]

#: model name -> the classifiers it offers on its top stage's maps (the first is its default)
CLASSIFIERS = {"neocognitron": ("intvec", "nearest", "ridge"), "hmax": ("ridge",)}
