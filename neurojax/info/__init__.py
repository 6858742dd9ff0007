"""Information theory (seed 003): entropy, KL and MI (discrete, Gaussian, nearest-neighbour),
variational MI bounds with a trainable critic, and information through the InfoMax network."""

from ._bounds import (
    BOUNDS as BOUNDS,
    donsker_varadhan as donsker_varadhan,
    infonce as infonce,
    jensen_shannon as jensen_shannon,
    mi_estimate as mi_estimate,
    nwj as nwj,
)
from ._channel import (
    gaussian_channel_mi as gaussian_channel_mi,
    network_channel_mi as network_channel_mi,
)
from ._copula import (
    copnorm as copnorm,
    gaussian_mi_samples as gaussian_mi_samples,
    gccmi as gccmi,
    gcmi as gcmi,
    gcmi_mixed as gcmi_mixed,
)
from ._critic import (
    ConcatCritic as ConcatCritic,
    CriticResult as CriticResult,
    SeparableCritic as SeparableCritic,
    train_critic as train_critic,
)
from ._dim import (
    DIMEncoder as DIMEncoder,
    DIMResult as DIMResult,
    dim_objective as dim_objective,
    train_dim as train_dim,
)
from ._discrete import (
    entropy as entropy,
    entropy_from_counts as entropy_from_counts,
    joint_histogram as joint_histogram,
    kl as kl,
    mutual_information as mutual_information,
    plugin_mi as plugin_mi,
    quantize as quantize,
)
from ._gaussian import (
    correlated_gaussian_mi as correlated_gaussian_mi,
    gaussian_entropy as gaussian_entropy,
    gaussian_kl as gaussian_kl,
    gaussian_mi as gaussian_mi,
    rho_for_mi as rho_for_mi,
)
from ._hoi import (
    HigherOrderResult as HigherOrderResult,
    dual_total_correlation as dual_total_correlation,
    higher_order as higher_order,
    o_information as o_information,
    total_correlation as total_correlation,
)
from ._knn import kl_entropy as kl_entropy, ksg_cmi as ksg_cmi, ksg_mi as ksg_mi
from ._resampling import (
    BootstrapResult as BootstrapResult,
    PermutationResult as PermutationResult,
    bootstrap_ci as bootstrap_ci,
    permutation_test as permutation_test,
)
from ._transfer import transfer_entropy as transfer_entropy
