"""Recurrent InfoMax network (seed 000): g* = σ(W x̃ + K g*), learning by ½ log det(χᵀχ).

Result Modules (`EquilibriumResult`, `ObjectiveResult`, `StepInfo`, `ChunkInfo`, ...) are returned
by these functions; their definitions live in the private modules and are documented in docs/api."""

from ._ensemble import penalty_sweep as penalty_sweep
from ._equilibrium import batch_roots as batch_roots, equilibrium as equilibrium
from ._hearing import (
    PROFILES as PROFILES,
    audiogram as audiogram,
    hearing_loss as hearing_loss,
    paper_audiogram as paper_audiogram,
    silence_response as silence_response,
    tone as tone,
)
from ._inputs import attenuate as attenuate, attenuation as attenuation, tones as tones
from ._learners import (
    BatchLearner as BatchLearner,
    LearnerState as LearnerState,
    OnlineLearner as OnlineLearner,
    learn_chunk as learn_chunk,
    stack as stack,
    take as take,
)
from ._learning import (
    OnlineRates as OnlineRates,
    infomax_optimizer as infomax_optimizer,
    seed_update as seed_update,
)
from ._model import RecurrentInfoMax as RecurrentInfoMax
from ._objective import (
    infomax_grads as infomax_grads,
    objective as objective,
    objective_and_grads as objective_and_grads,
    per_sample_grads as per_sample_grads,
    sensitivity as sensitivity,
)
from ._paper_measures import (
    connectivity_profile as connectivity_profile,
    damped_steps as damped_steps,
    mean_squared_correlation as mean_squared_correlation,
    paper_slowing as paper_slowing,
    population_vector as population_vector,
)
from ._stability import (
    critical_slowing as critical_slowing,
    rho as rho,
    spectral_radius as spectral_radius,
)
from ._train import (
    batch_indices as batch_indices,
    train as train,
    train_on_batches as train_on_batches,
)
