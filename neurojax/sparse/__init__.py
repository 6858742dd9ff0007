"""Sparsity and sparse coding (seed 002): measures, lasso inference (ISTA/FISTA), OMP,
dictionary learning (functions and scikit-learn estimators), natural-image tools and Gabor
fits."""

from .._tolerance import default_tol as default_tol
from ._data import (
    digits_video as digits_video,
    panning_pixel as panning_pixel,
    sample_images as sample_images,
    sinusoid_dictionary as sinusoid_dictionary,
)
from ._dictionary import (
    DictionaryResult as DictionaryResult,
    learn_dictionary as learn_dictionary,
)
from ._encode import SparseCode as SparseCode, encode as encode
from ._estimators import (
    DictionaryLearning as DictionaryLearning,
    SparseCoder as SparseCoder,
    dict_learning as dict_learning,
)
from ._gabor import GaborFit as GaborFit, gabor as gabor, gabor_fit as gabor_fit
from ._images import (
    PCAResult as PCAResult,
    extract_patches as extract_patches,
    pca as pca,
    whiten as whiten,
)
from ._lar import lar as lar
from ._lars import lasso_lars as lasso_lars
from ._lasso import (
    LassoResult as LassoResult,
    fista as fista,
    ista as ista,
    lasso_objective as lasso_objective,
    lipschitz as lipschitz,
)
from ._measures import (
    box_diff as box_diff,
    hoyer as hoyer,
    kurtosis as kurtosis,
    l0 as l0,
    l1 as l1,
    relu as relu,
    spatial_diff as spatial_diff,
    temporal_diff as temporal_diff,
)
from ._minibatch import (
    MiniBatchDictionaryLearning as MiniBatchDictionaryLearning,
    dict_learning_online as dict_learning_online,
)
from ._omp import OMPResult as OMPResult, omp as omp
from ._sklearn import sparse_encode as sparse_encode
from ._update import update_dictionary as update_dictionary
