"""Plumbing shared by the science modules and the ConvNet engine (private).

``validate``
    The checks at the public edge: arrays, numbers, choices, seeds, and sizes
    bounded by the machine's memory; each raises a :mod:`v1sim.errors` type
    naming the argument.
``memory``
    The memory bound behind ``validate.check_allocation``: the machine's
    physical memory (or cgroup limit, or ``V1SIM_MAX_BYTES``) and the exact
    size arithmetic that refuses an array before it is allocated.
``io``
    Atomic, pickle-free files: one-file ``.npz`` checkpoints (arrays plus their
    JSON metadata), JSON and JSON-lines logs, each committed by one rename.
``runs``
    The run folder of every trainer (:func:`v1sim.nn.train.fit` and
    :func:`v1sim.hierarchy.train`): ``run.json``, the logs, the ``last`` /
    ``previous`` / ``best`` checkpoints, resume checks and the deferred Ctrl-C.
"""
