"""``python -m v1sim.datasets --build-embedded SRC_DIR``: rebuild ``v1sim/data/digits.npz``."""

from __future__ import annotations

import argparse
import sys

from .digits import build_embedded


def main(argv=None) -> int:
    """Rebuild the bundled digits from the four MNIST .gz files; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m v1sim.datasets", description="Maintenance of the bundled digits (v1sim/data/digits.npz)."
    )
    parser.add_argument(
        "--build-embedded", metavar="SRC_DIR", required=True, help="directory with the 4 MNIST .gz files"
    )
    parser.add_argument("--out", help="output file (default: the package's data/digits.npz)")
    parser.add_argument("--train-per-class", type=int, default=500)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20240)
    args = parser.parse_args(argv)
    path = build_embedded(
        args.build_embedded,
        args.out,
        n_train_per_class=args.train_per_class,
        n_test_per_class=args.test_per_class,
        seed=args.seed,
    )
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
