"""The ``v1sim`` command line.

Subcommands
-----------
figures   regenerate the figure gallery (the main job)
summary   a model's layers: output shapes, parameters, activation memory, MACs
train     train a ConvNet (digits, Fashion-MNIST, natural images; transfer from a run), the Neocognitron or HMAX
codes     a trained ConvNet's "CNN codes" of a dataset, with nearest-neighbour retrieval
visualize feature visualisation of a run or of a zoo model with torchvision weights
record    virtual electrophysiology on a model cell: rasters, tuning curves, metrics
benchmark score models against macaque V1 (Marques et al. 2021's 13 properties; Dask for many)
info      versions, threads, Numba threading layer, CUDA availability
warmup    compile every kernel ahead of use and report first-call times

Modules: ``main`` (the parser, :func:`main`, the error-type -> exit-code
mapping), and one per subcommand (``figures``, ``summary``, ``train``,
``record``, ``benchmark``, ``codes``, ``visualize``, ``info`` with ``warmup``), each with ``add_parser(sub)`` and the
function it runs. Building the parser imports no numpy: ``v1sim --help``
starts fast.

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted, 141 stdout
closed early (``v1sim summary --list | head -1``: 128 + SIGPIPE, what a
shell reports for ``yes | head -1``, so ``set -o pipefail`` scripts see the
output was cut short). A user's mistake (a bad flag or value, an unknown
name, an ``--out`` that is a file) prints one line on stderr naming the flag
and exits 2, never a traceback: argparse's complaints and any
:class:`v1sim.errors.InputError` or :class:`~v1sim.errors.CheckpointError`
a subcommand raises end there. Any other exception is a bug and keeps its
traceback.
"""

from .main import build_parser, main

__all__ = ["main", "build_parser"]
