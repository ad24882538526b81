"""LeNet-5 (LeCun et al. 1998 [1]_), the tanh + average-pooling digit recogniser.

References
----------
.. [1] Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning
   applied to document recognition", Proc. IEEE 86(11), 1998.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

from ..._core.validate import check_rng
from ..activation import Tanh
from ..container import Sequential
from ..layers import Conv2d, Linear
from ..pooling import AvgPool2d, Flatten
from .common import classes

__all__ = ["lenet5"]


def lenet5(num_classes=10, in_channels=1, *, rng=None, device="auto") -> Sequential:
    """LeNet-5 [1]_ on 32x32 inputs: C1 6@5x5, S2, C3 16@5x5, S4, C5 120@5x5, F6 84, output.

    Shapes 32 -> 28 -> 14 -> 10 -> 5 -> 1; tanh after every convolution and
    F6, average pooling for subsampling, Xavier initialisation.

    Deviations from the paper (61,706 parameters here against its 60,840):
    C3 connects to all six S2 maps (the paper's partial table has 60 of the
    96 map pairs: 1,516 parameters, here 2,416); S2 and S4 average without the
    paper's trainable coefficient and bias per map (12 + 32 parameters) and
    are not followed by a squashing function; the paper's scaled tanh
    ``1.7159 tanh(2a/3)`` is plain tanh; and the output is a Linear layer of
    logits (850 parameters) instead of 84x10 Euclidean RBF units (840).
    """
    rng = check_rng(rng)
    conv = partial(Conv2d, init="xavier", device=device, rng=rng)
    return Sequential(
        OrderedDict(
            c1=conv(in_channels, 6, 5),
            tanh1=Tanh(),
            s2=AvgPool2d(2, device=device),
            c3=conv(6, 16, 5),
            tanh3=Tanh(),
            s4=AvgPool2d(2, device=device),
            c5=conv(16, 120, 5),
            tanh5=Tanh(),
            flatten=Flatten(),
            f6=Linear(120, 84, init="xavier", rng=rng),
            tanh6=Tanh(),
            output=Linear(84, classes(num_classes), init="xavier", rng=rng),
        )
    )
