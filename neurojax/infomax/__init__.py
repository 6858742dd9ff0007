"""Recurrent InfoMax network (seed 000): g* = σ(W x̃ + K g*), learning by ½ log det(χᵀχ)."""

from ._equilibrium import (
    EquilibriumResult as EquilibriumResult,
    batch_roots as batch_roots,
    equilibrium as equilibrium,
)
from ._inputs import attenuate as attenuate, attenuation as attenuation, tones as tones
from ._learning import (
    add_l1_sign_decay as add_l1_sign_decay,
    infomax_optimizer as infomax_optimizer,
    seed_update as seed_update,
    zero_diagonal as zero_diagonal,
)
from ._model import RecurrentInfoMax as RecurrentInfoMax
from ._objective import (
    NEUMANN_MAX_CONTRACTION as NEUMANN_MAX_CONTRACTION,
    NEUMANN_MIN_SIZE as NEUMANN_MIN_SIZE,
    infomax_grads as infomax_grads,
    neumann_contraction as neumann_contraction,
    objective as objective,
    objective_and_grads as objective_and_grads,
    per_sample_grads as per_sample_grads,
    sensitivity as sensitivity,
)
from ._online import (
    OnlineChunk as OnlineChunk,
    OnlineRates as OnlineRates,
    OnlineStep as OnlineStep,
    ensemble_cost as ensemble_cost,
    ensemble_objective as ensemble_objective,
    ensemble_roots as ensemble_roots,
    online_run as online_run,
    online_step as online_step,
)
from ._paper_measures import (
    SlowingCurves as SlowingCurves,
    connectivity_profile as connectivity_profile,
    damped_steps as damped_steps,
    mean_squared_correlation as mean_squared_correlation,
    paper_slowing as paper_slowing,
    population_vector as population_vector,
)
from ._tinnitus import (
    PROFILES as PROFILES,
    audiogram as audiogram,
    critical_slowing as critical_slowing,
    hearing_loss as hearing_loss,
    paper_audiogram as paper_audiogram,
    penalty_sweep as penalty_sweep,
    rho as rho,
    silence_response as silence_response,
    tone as tone,
)
from ._train import (
    batch_indices as batch_indices,
    learn_steps as learn_steps,
    spectral_radius as spectral_radius,
    train as train,
    train_on_batches as train_on_batches,
)
