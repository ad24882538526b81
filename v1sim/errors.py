"""The errors a user of v1sim catches, as types.

Code decides what to do from an exception's type and attributes, never from
its wording. Every class derives from the built-in exception a Python user
already expects (``ValueError`` for a bad value, ``TypeError`` for a bad type,
``OSError`` for a failed download), so ``except ValueError`` keeps working.

=========================  ==================================================
``InputError``             an argument's value is wrong (shape, range, size);
                           ``.argument`` names it
``InputTypeError``         an argument's type or dtype is wrong (also a
                           ``TypeError``); ``.argument`` names it
``NonFiniteError``         an argument holds NaN or infinity
``CheckpointError``        a run folder or checkpoint is missing, corrupt, or
                           belongs to another run
``TrainingError``          training cannot go on (diverged, nothing to do)
``TrainingInterrupted``    Ctrl-C, raised after a resumable checkpoint is safe
``DownloadError``          a dataset could not be fetched or failed its checksum
``CudaUnavailableError``   the CUDA backend was asked for but cannot run
=========================  ==================================================
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "CudaUnavailableError",
    "DownloadError",
    "InputError",
    "InputTypeError",
    "NonFiniteError",
    "TrainingError",
    "TrainingInterrupted",
]


class InputError(ValueError):
    """An argument's value is wrong: its shape, range, size, or the memory it would need.

    Parameters
    ----------
    message : str
        What is wrong, naming the argument and showing expected against received.
    argument : str, optional
        The offending argument's name as the caller wrote it (``"sigma"``,
        ``"train images"``, a CLI flag such as ``"--size"``).
    """

    def __init__(self, message: str, *, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


class InputTypeError(InputError, TypeError):
    """An argument has the wrong Python type or dtype (a ``TypeError`` and an :class:`InputError`)."""


class NonFiniteError(InputError):
    """An argument holds NaN or infinite values where finite ones are needed."""


class CheckpointError(ValueError):
    """A checkpoint or run folder is missing, corrupt, inconsistent, or belongs to another run.

    Parameters
    ----------
    message : str
        What is wrong, naming the file.
    path : str or Path, optional
        The file or folder at fault.
    """

    def __init__(self, message: str, *, path=None):
        super().__init__(message)
        self.path = None if path is None else str(path)


class TrainingError(RuntimeError):
    """Training cannot go on: the loss diverged, or the run has nothing left to do."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, raised once a resumable checkpoint is safely written."""


class DownloadError(OSError):
    """A dataset could not be downloaded, or the download failed its checksum."""


class CudaUnavailableError(RuntimeError):
    """The CUDA backend was requested but cannot run here (no GPU, no numba-cuda, no driver)."""
