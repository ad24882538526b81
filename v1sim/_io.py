"""Atomic, pickle-free files (moved to :mod:`v1sim._core.io`; this name keeps old imports working)."""

from __future__ import annotations

from ._core.io import atomic_write, load_checkpoint, save_checkpoint, write_json, write_jsonl
from .errors import CheckpointError

__all__ = ["CheckpointError", "atomic_write", "load_checkpoint", "save_checkpoint", "write_json", "write_jsonl"]
