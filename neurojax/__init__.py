"""neurojax: recurrent InfoMax, plastic delayed ring networks, sparse coding and information theory in JAX.

`import neurojax` loads the model subpackages only; the experiment layer (files, figures, progress
bars) is `import neurojax.experiments`."""

from . import (
    info as info,
    infomax as infomax,
    ring as ring,
    sparse as sparse,
)
from ._numerics import sigmoid as sigmoid, sigmoid_derivatives as sigmoid_derivatives
from ._version import __version__ as __version__
