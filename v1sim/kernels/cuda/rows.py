"""No CUDA twins: the row kernels of :mod:`v1sim.kernels.cpu.rows` (direct convolution of thin patches) run on
the CPU only.

This module mirrors the CPU module's name (one file per topic on both sides); the kernels are listed in
:data:`v1sim.kernels.CPU_ONLY` with the reason.
"""
