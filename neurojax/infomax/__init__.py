"""Recurrent InfoMax network (seed 000): g* = σ(W x̃ + K g*), learning by ½ log det(χᵀχ)."""

from ._data_parallel import sharded_objective_and_grads as sharded_objective_and_grads
from ._ensemble import (
    PenaltySweep as PenaltySweep,
    ensemble_learn as ensemble_learn,
    penalty_sweep as penalty_sweep,
    stack as stack,
    take as take,
)
from ._equilibrium import (
    EquilibriumResult as EquilibriumResult,
    batch_roots as batch_roots,
    equilibrium as equilibrium,
)
from ._hearing import (
    PROFILES as PROFILES,
    Audiogram as Audiogram,
    audiogram as audiogram,
    hearing_loss as hearing_loss,
    paper_audiogram as paper_audiogram,
    silence_response as silence_response,
    tone as tone,
)
from ._inputs import attenuate as attenuate, attenuation as attenuation, tones as tones
from ._learning import (
    OnlineRates as OnlineRates,
    add_l1_sign_decay as add_l1_sign_decay,
    infomax_optimizer as infomax_optimizer,
    seed_update as seed_update,
    with_hyperparams as with_hyperparams,
    zero_diagonal as zero_diagonal,
)
from ._model import RecurrentInfoMax as RecurrentInfoMax
from ._objective import (
    ObjectiveResult as ObjectiveResult,
    infomax_grads as infomax_grads,
    neumann_contraction as neumann_contraction,
    objective as objective,
    objective_and_grads as objective_and_grads,
    per_sample_grads as per_sample_grads,
    sensitivity as sensitivity,
)
from ._online import (
    EnsembleRoots as EnsembleRoots,
    EnsembleValue as EnsembleValue,
    OnlineChunk as OnlineChunk,
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
from ._stability import (
    CriticalSlowing as CriticalSlowing,
    critical_slowing as critical_slowing,
    rho as rho,
    spectral_radius as spectral_radius,
)
from ._train import (
    StepStats as StepStats,
    TrainResult as TrainResult,
    batch_indices as batch_indices,
    learn_steps as learn_steps,
    train as train,
    train_on_batches as train_on_batches,
)
