"""Plain vs residual networks on MNIST: plain-20/56 and ResNet-20/56 trained with v1sim train.

He et al. (2016, Fig. 1 and 6) on CIFAR-10: the 56-layer plain network
trains worse than the 20-layer one (higher *training* error: an
optimisation problem, not overfitting), while with identity shortcuts the
56-layer ResNet trains as well as or better than ResNet-20. This figure
redoes the comparison on MNIST zero-padded to 32x32, with He et al.'s CIFAR
networks from v1sim's model zoo and v1sim's own training loop; the four
runs were made with::

    v1sim train plain20 --dataset mnist --data-dir DIR --limit 20000 --epochs 3 \
        --log-every 5 --warmup-steps 20 --out runs/plain20

and the same for ``resnet20``, ``plain56`` and ``resnet56`` (the recipe's
batch of 128, lr 0.1, momentum 0.9, weight decay 1e-4): three epochs over
the first 20,000 training images, 471 SGD steps, the learning rate warmed
up from 0.01 over the first 20. On two cores they took 9, 10, 34 and 24
minutes (plain-56 shared the machine with other work). Final training loss
(mean of the last 115 steps) and error: plain-20 0.05 nats, 1.5%; plain-56
0.35 nats, 10.9%; ResNet-20 0.05 nats, 1.5%; ResNet-56 0.05 nats, 1.6%. The
deep plain net starts learning only in its second epoch and still lags by
a factor of seven at the end, while the deep ResNet catches up with the
shallow one within the first epoch: the lecture's pattern. (He et al.'s deep
ResNet ends slightly *below* the shallow one after 64,000 iterations; 471
steps on MNIST only show it level.) Without the warm-up a fresh ResNet-56 first
trains *worse* than plain-56 (88% against 80% training error at step 50:
the shortcut sums inflate its activations at lr 0.1; a run without
warm-up, stopped there), which is why He et al. warmed up their deepest
ResNet. The logs of those runs
(``run.json``, ``metrics.jsonl``, ``steps.jsonl``; about 100 KB, no
weights) are kept in ``scripts/data/plain_vs_residual_mnist``, so this
figure is redrawn from what was measured without training again; the
title's verdict is computed from the curves, not asserted. To plot other
runs, run ``python scripts/plain_vs_residual_panels.py RUNS_DIR OUT_DIR``,
which draws the same panels. (This figure replaced one that trained the
four networks for 60 steps on the embedded digits inside ``v1sim figures``,
a window in which the result did not hold across seeds.) One run per
network, one seed each: the spread across seeds is not measured.

References: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for
image recognition", CVPR 2016, section 4.2.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

RECORDED = Path(__file__).resolve().parent / "data" / "plain_vs_residual_mnist"


def _panels():
    """The reading and plotting code of ``plain_vs_residual_panels.py`` beside this script."""
    path = Path(__file__).resolve().with_name("plain_vs_residual_panels.py")
    spec = importlib.util.spec_from_file_location("_fig_plain_vs_residual_panels", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(out_dir, quick=False) -> Path:
    panels = _panels()
    curves = panels.read_runs(RECORDED)
    if not curves:
        raise FileNotFoundError(f"no recorded runs in {RECORDED} (see this script's docstring for the commands)")
    source = "scripts/data/plain_vs_residual_mnist"
    return panels.plot(curves, Path(out_dir) / "plain_vs_residual_mnist.png", source=source)


if __name__ == "__main__":
    start = time.perf_counter()
    args = [a for a in sys.argv[1:] if a != "--quick"]
    path = main(args[0] if args else "figures", quick="--quick" in sys.argv)
    print(f"{path} ({time.perf_counter() - start:.1f} s)")
