"""Feature visualisation: what the units of a ConvNet or an S/C hierarchy respond to.

The lecture's "what do ConvNets learn" (Zeiler & Fergus 2014), for any
v1sim network (a :class:`v1sim.nn.Module`, e.g. a ``v1sim train`` run) and
for the Neocognitron:

receptive_field (:func:`receptive_fields`, :func:`receptive_field`, :class:`ReceptiveField`)
    Where a unit looks in the input, computed through the layers' kernel
    sizes, strides, padding and dilation (size, jump, start).
activations (:func:`layer_outputs`, :func:`top_patches`, :class:`TopPatches`)
    Every layer's maps for an image; the k images of a dataset that drive
    each unit hardest, cropped to the unit's receptive field.
maximize (:func:`maximize_activation`, :class:`Maximization`)
    Activation maximisation: gradient ascent on the input through the
    engine's ``Module.backward``, regularised by an L2 penalty, Gaussian
    blur every few steps and the pixel range.
finite_difference (:func:`finite_difference_gradient`, :func:`hierarchy_unit_gradient`)
    The same ascent for an S/C hierarchy, which has no backward pass: the
    gradient by central differences over the unit's receptive field, the
    2 P perturbed images in one batched forward.
mosaic (:func:`filter_images`, :func:`tile`, :func:`layer_weights`)
    Filters as images: the first layer as it is, deeper layers by their
    strongest input channel; tiles laid out as one mosaic.
network (:func:`load_network`, :func:`network_images`, :class:`Network`)
    A trained network from its run folder (ConvNet or hierarchy), and its images.
report (:func:`write_visualizations`), plots
    All of it as PNGs and a JSON summary: ``v1sim visualize``.

It sits beside :mod:`v1sim.nn` and :mod:`v1sim.hierarchy`, not inside
``nn``, because it serves both: the Neocognitron is not an ``nn.Module``.

References
----------
.. [1] Zeiler MD, Fergus R (2014). Visualizing and understanding convolutional
   networks. ECCV 2014, LNCS 8689:818-833.
.. [2] Erhan D, Bengio Y, Courville A, Vincent P (2009). Visualizing
   higher-layer features of a deep network. Technical report 1341,
   Universite de Montreal.
.. [3] Simonyan K, Vedaldi A, Zisserman A (2014). Deep inside convolutional
   networks: visualising image classification models and saliency maps.
   ICLR 2014 workshop.
.. [4] Yosinski J, Clune J, Nguyen A, Fuchs T, Lipson H (2015).
   Understanding neural networks through deep visualization. ICML 2015
   Deep Learning Workshop.
.. [5] Araujo A, Norris W, Sim J (2019). Computing receptive fields of
   convolutional neural networks. Distill 4(11):e21.
"""

from .activations import TopPatches, layer_outputs, top_patches
from .finite_difference import finite_difference_gradient, hierarchy_unit_gradient
from .maximize import Maximization, maximize_activation, unit_gradient
from .mosaic import filter_images, layer_weights, tile
from .network import Network, load_network, network_images
from .receptive_field import ReceptiveField, receptive_field, receptive_fields
from .report import write_visualizations

__all__ = [
    "Maximization",
    "Network",
    "ReceptiveField",
    "TopPatches",
    "filter_images",
    "finite_difference_gradient",
    "hierarchy_unit_gradient",
    "layer_outputs",
    "layer_weights",
    "load_network",
    "maximize_activation",
    "network_images",
    "receptive_field",
    "receptive_fields",
    "tile",
    "top_patches",
    "unit_gradient",
    "write_visualizations",
]
