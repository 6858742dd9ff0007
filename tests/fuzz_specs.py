"""The fuzz suite's table: for every public callable, one valid call and, per argument, a hypothesis
strategy of bad values (tests/test_fuzz.py draws from them).

A bad value must give a ValueError/TypeError whose message names the argument, or — for functions
that cannot check values (pure, jittable, traced) — a result whose status is False (`status`), or
for bare elementwise functions a non-finite output (`propagates`: "non-finite in, non-finite out",
docs/errors.md). Shapes are tiny: the point is the checks, not the numbers."""

import functools
import math
from dataclasses import dataclass, field

import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np

NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
FINITE = dict(allow_nan=False, allow_infinity=False)


def positive():
    """Bad values of a parameter that must be finite and > 0."""
    return st.one_of(NONFINITE, st.floats(max_value=0.0, min_value=-1e6, **FINITE))


def nonneg():
    """Bad values of a parameter that must be finite and >= 0."""
    return st.one_of(NONFINITE, st.floats(max_value=-1e-3, min_value=-1e6, **FINITE))


def unit(closed_low=True):
    """Bad values of a parameter in [0, 1] ((0, 1] with `closed_low=False`)."""
    low = st.floats(max_value=-1e-3, min_value=-1e3, **FINITE) if closed_low else \
        st.floats(max_value=0.0, min_value=-1e3, **FINITE)
    return st.one_of(NONFINITE, low, st.floats(min_value=1.001, max_value=1e3, **FINITE))


def count(minimum=1):
    """Bad values of an integer count >= `minimum`: smaller ints, floats, bools, strings."""
    return st.one_of(st.integers(max_value=minimum - 1, min_value=-10**6),
                     st.floats(min_value=-10, max_value=10, **FINITE), st.booleans(), st.just("3"))


def choice(valid):
    """Strings that are not among `valid`."""
    return st.text(min_size=0, max_size=8).filter(lambda s: s not in valid)


def nonfinite(a):
    """`a` with one entry (drawn) replaced by NaN or ±inf."""
    a = np.array(a, dtype=np.result_type(np.asarray(a).dtype, np.float32))

    def put(t):
        b = a.copy()
        b.flat[t[0]] = t[1]
        return b

    return st.tuples(st.integers(0, a.size - 1), NONFINITE).map(put)


def reshaped(*shapes):
    """Arrays of the given (wrong) shapes, entries drawn finite."""
    return st.sampled_from(shapes).flatmap(
        lambda s: st.builds(lambda v: np.full(s, v, np.float32), st.floats(-2, 2, **FINITE)))


def bad_array(a, *shapes):
    """Non-finite entries in `a`, or any of the wrong `shapes`."""
    return st.one_of(nonfinite(a), reshaped(*shapes)) if shapes else nonfinite(a)


@dataclass
class Spec:
    """`call(**kwargs)` with `kwargs` valid; `bad[name]`: strategy of bad values of `name`;
    `status(result) -> bool` (False = flagged) where a bad value may be accepted but flagged;
    `propagates`: a non-finite input may give a non-finite output instead of an error;
    `names`: other words an error may use for an argument."""

    call: object
    kwargs: dict
    bad: dict
    status: object = None
    propagates: tuple = ()
    names: dict = field(default_factory=dict)


def _flag(attr):
    return lambda r: bool(np.all(np.asarray(getattr(r, attr))))


def specs() -> dict:
    """{public object: Spec} — every public function and class of the package that takes input
    (tests/test_fuzz.py fails for one without an entry here or in EXEMPT)."""
    import optax

    import neurojax as nj
    import neurojax.info as ni
    import neurojax.infomax as nim
    import neurojax.parallel as npar
    import neurojax.ring as nr
    import neurojax.sparse as ns

    key = jax.random.key(0)
    rng = np.random.default_rng(0)  # NumPy data: no compiled programs just to build the table
    f32 = lambda a: jnp.asarray(np.asarray(a, np.float32))  # noqa: E731
    m = nim.RecurrentInfoMax.tonotopic(4, 6)
    x4, xs = jnp.full(4, 0.5), f32(rng.uniform(0, 1, (8, 4)))
    K6 = jnp.zeros((6, 6))
    W, Ke = f32(np.stack([m.W, m.W])), jnp.zeros((2, 6, 6))
    xt = f32(np.concatenate([np.asarray(xs[:2]), -np.ones((2, 1))], axis=1))
    rates = nim.OnlineRates(ff_eta=jnp.full(2, 0.1), ff_l1=jnp.zeros(2), rec_eta=jnp.full(2, 0.01),
                            rec_l2=jnp.full(2, 0.1))
    opt = nim.infomax_optimizer()
    state = opt.init(m)
    D = rng.normal(size=(8, 16))
    D = f32(D / np.linalg.norm(D, axis=0))
    X = f32(rng.normal(size=(5, 8)))
    s1 = f32(rng.normal(size=(60, 1)))
    s2 = f32(np.asarray(s1) + 0.5 * rng.normal(size=(60, 1)))
    s3 = f32(rng.normal(size=(60, 1)))
    labels = jnp.asarray(np.arange(60) % 3)
    p = jnp.array([0.25, 0.25, 0.5])
    joint = jnp.array([[0.2, 0.1], [0.3, 0.4]])
    scores = f32(rng.normal(size=(6, 6)))
    cov2 = jnp.array([[1.0, 0.3], [0.3, 1.0]])
    img = f32(rng.normal(size=(2, 16, 16)))
    cfg = nr.RingConfig(N=16, tau_d=1e-3)
    w16 = jnp.zeros((16, 16))
    mesh = npar.data_mesh(1)
    encoder = functools.cache(lambda: ni.DIMEncoder((8, 8), 4, key=key))
    mi_est = lambda a, b: ni.gcmi(a, b)  # noqa: E731
    conv = _flag("converged")

    S = Spec
    t = {
        # the top level
        nj.sigmoid: S(nj.sigmoid, {"x": x4}, {"x": nonfinite(x4)}, propagates=("x",)),
        nj.sigmoid_derivatives: S(nj.sigmoid_derivatives, {"x": x4}, {"x": nonfinite(x4)},
                                  propagates=("x",)),
        # infomax
        nim.RecurrentInfoMax: S(nim.RecurrentInfoMax, {"W": m.W, "K": K6},
                                {"W": bad_array(m.W, (6,), (6, 1)), "K": bad_array(K6, (6, 5), (6,))}),
        nim.add_l1_sign_decay: S(nim.add_l1_sign_decay, {"weight": 0.1}, {"weight": nonneg()}),
        nim.attenuate: S(nim.attenuate, {"x": xs, "profile": jnp.ones(4)},
                         {"x": bad_array(xs, (8, 3)), "profile": bad_array(jnp.ones(4), (3,))},
                         propagates=("x",)),
        nim.attenuation: S(nim.attenuation, {"n_in": 8, "f0": 4.0, "beta": 10.0, "minval": 0.0},
                           {"n_in": count(), "f0": NONFINITE, "beta": NONFINITE,
                            "minval": unit()}),
        nim.audiogram: S(nim.audiogram, {"model": m, "threshold": 0.05, "a_max": 10.0,
                                         "n_bisect": 4, "width": 1.0, "undetected": "inf"},
                         {"threshold": positive(), "a_max": positive(), "n_bisect": count(),
                          "width": nonneg(), "undetected": choice(("inf", "a_max")),
                          "gain": bad_array(jnp.ones(4), (3,)), "model": st.just("m")}),
        nim.paper_audiogram: S(nim.paper_audiogram, {"model": m},
                               {"gain": bad_array(jnp.ones(4), (3,)),
                                "silence": bad_array(jnp.ones(6), (5,))}),
        nim.batch_indices: S(nim.batch_indices, {"n_samples": 8, "batch_size": 2,
                                                 "steps": range(3), "key": key},
                             {"n_samples": count(), "batch_size": count(),
                              "steps": st.sampled_from([3, "abc", None])}),
        nim.batch_roots: S(nim.batch_roots, {"model": m, "xs": xs},
                           {"xs": bad_array(xs, (8,), (8, 3)), "method": choice(("auto", "newton", "picard")),
                            "rtol": nonneg(), "atol": nonneg(), "max_steps": count()},
                           status=conv),
        nim.connectivity_profile: S(nim.connectivity_profile,
                                    {"K": K6, "rows": jnp.ones(6, bool), "max_offset": 2},
                                    {"K": bad_array(K6, (6, 5)), "rows": reshaped((5,)),
                                     "max_offset": count(0)}),
        nim.critical_slowing: S(nim.critical_slowing, {"model": m, "scales": [0.0, 1.0],
                                                       "max_steps": 8},
                                {"scales": bad_array(jnp.array([0.0, 1.0]), (2, 2)),
                                 "x": bad_array(x4, (3,)), "max_steps": count()}),
        nim.damped_steps: S(nim.damped_steps, {"model": m, "x": x4, "alpha": 0.2, "max_steps": 8},
                            {"x": bad_array(x4, (3,)), "alpha": unit(closed_low=False),
                             "tol": positive(), "max_steps": count()}),
        nim.ensemble_roots: S(nim.ensemble_roots, {"W": W, "K": Ke, "xt": xt},
                              {"xt": bad_array(xt, (2, 4)), "K": bad_array(Ke, (2, 6, 5)),
                               "rtol": nonneg(), "max_steps": count()}, status=conv),
        nim.ensemble_objective: S(nim.ensemble_objective, {"W": W, "K": Ke, "xt": xt, "n_in": 4},
                                  {"xt": bad_array(xt, (2, 4)), "n_in": count()}, status=conv),
        nim.ensemble_cost: S(nim.ensemble_cost, {"W": W, "K": Ke, "eval_x": xs[:2], "n_in": 4},
                             {"eval_x": bad_array(xs[:2], (2, 3)), "n_in": count()}, status=conv),
        nim.online_step: S(nim.online_step, {"W": W, "K": Ke, "xt": xt, "rates": rates, "n_in": 4,
                                             "learn_W": True, "learn_K": True},
                           {"xt": bad_array(xt, (2, 4)), "n_in": count(),
                            "rates": st.just("rates")}, status=conv),
        nim.online_run: S(nim.online_run, {"W": W, "K": Ke, "active": jnp.ones(2, bool),
                                           "cost": jnp.zeros(2), "pool": xs, "gains": jnp.ones((2, 4)),
                                           "idx": jnp.arange(4), "eval_x": xs[:2], "rates": rates,
                                           "n_in": 4, "learn_W": True, "learn_K": True,
                                           "eval_every": 2, "stop_rise": None},
                          {"pool": bad_array(xs, (8, 3)), "eval_every": count(),
                           "idx": st.sampled_from([jnp.arange(3), jnp.arange(4) + 100]),
                           "stop_rise": nonneg()},
                          status=lambda r: bool(np.all(np.asarray(r.sound)))),
        nim.ensemble_learn: S(nim.ensemble_learn, {"models": nim.stack(m, 2),
                                                   "opt_states": nim.stack(state, 2),
                                                   "data": jnp.stack([xs, xs]),
                                                   "idx": jnp.zeros((2, 2), int), "optimizer": opt},
                              {"data": bad_array(jnp.stack([xs, xs]), (8, 4)),
                               "idx": st.sampled_from([jnp.full((2, 2), 99), jnp.zeros(2, int)])},
                              status=lambda r: bool(np.all(np.asarray(r.stats.converged)))),
        nim.equilibrium: S(nim.equilibrium, {"model": m, "x": x4},
                           {"x": bad_array(x4, (3,), (4, 1)),
                            "method": choice(("auto", "newton", "picard")), "rtol": nonneg(),
                            "atol": nonneg(), "max_steps": count(), "model": st.just(3)},
                           status=conv),
        nim.hearing_loss: S(nim.hearing_loss, {"profile": "baseline", "n_in": 8, "minval": 0.0,
                                               "beta": 10.0},
                            {"profile": st.one_of(choice(nim.PROFILES), nonfinite(jnp.ones(8)),
                                                  reshaped((7,))),
                             "n_in": count(), "minval": unit(), "beta": NONFINITE}),
        nim.infomax_grads: S(nim.infomax_grads, {"model": m, "xs": xs},
                             {"xs": reshaped((8,), (0, 4), (8, 3))}),
        nim.infomax_optimizer: S(nim.infomax_optimizer, {},
                                 {"ff_eta": nonneg(), "rec_eta": nonneg(), "ff_l1": nonneg(),
                                  "rec_l2": nonneg()}),
        nim.learn_steps: S(nim.learn_steps, {"model": m, "opt_state": state, "data": xs,
                                             "idx": jnp.zeros((2, 2), int), "optimizer": opt},
                           {"data": nonfinite(xs)},
                           status=lambda r: bool(np.all(np.asarray(r.stats.converged)))),
        nim.mean_squared_correlation: S(nim.mean_squared_correlation, {"g": xs},
                                        {"g": bad_array(xs, (8,), (1, 4))}, propagates=("g",)),
        nim.neumann_contraction: S(nim.neumann_contraction, {"K": K6, "roots": jnp.full((2, 6), 0.5)},
                                   {"K": bad_array(K6, (6, 5)),
                                    "roots": bad_array(jnp.full((2, 6), 0.5), (2, 5))},
                                   propagates=("K", "roots")),
        nim.objective: S(nim.objective, {"model": m, "x": x4},
                         {"x": bad_array(x4, (3,))}, status=lambda r: bool(np.isfinite(r))),
        nim.objective_and_grads: S(nim.objective_and_grads, {"model": m, "xs": xs},
                                   {"xs": bad_array(xs, (8,), (0, 4), (8, 3)),
                                    "linear_solver": choice(("auto", "lu", "neumann"))},
                                   status=conv),
        nim.per_sample_grads: S(nim.per_sample_grads, {"model": m, "xs": xs},
                                {"xs": bad_array(xs, (8,), (8, 3))},
                                status=lambda r: bool(np.all(np.isfinite(r.K)))),
        nim.paper_slowing: S(nim.paper_slowing, {"model": m, "xs": xs[:2], "scales": [0.0, 1.0],
                                                 "key": key, "max_steps": 16},
                             {"xs": bad_array(xs[:2], (2, 3)), "scales": nonfinite(jnp.ones(2)),
                              "n_starts": count(), "max_steps": count()}),
        nim.penalty_sweep: S(nim.penalty_sweep, {"model": m, "data": xs, "data_att": xs,
                                                 "penalties": [0.1], "key": key,
                                                 "steps_normal": 2, "steps_attenuated": 2,
                                                 "batch_size": 2},
                             {"penalties": st.one_of(nonfinite([0.1]), st.just([-1.0]), st.just([])),
                              "steps_normal": count(0), "batch_size": count(),
                              "data": bad_array(xs, (8, 3))}),
        nim.population_vector: S(nim.population_vector, {"g": xs}, {"g": nonfinite(xs)},
                                 propagates=("g",)),
        nim.rho: S(nim.rho, {"K": K6}, {"K": bad_array(K6, (6, 5))}, propagates=("K",)),
        nim.spectral_radius: S(nim.spectral_radius, {"K": K6}, {"K": bad_array(K6, (6, 5), (6,))}),
        nim.seed_update: S(nim.seed_update, {"model": m, "grads": m},
                           {"ff_eta": nonneg(), "rec_eta": nonneg(), "ff_l1": nonneg(),
                            "rec_l2": nonneg()}),
        nim.sensitivity: S(nim.sensitivity, {"model": m, "x": x4}, {"x": bad_array(x4, (3,))},
                           status=lambda r: bool(np.all(np.isfinite(r)))),
        nim.sharded_objective_and_grads: S(nim.sharded_objective_and_grads,
                                           {"model": m, "xs": xs, "mesh": mesh},
                                           {"mesh": st.just("mesh"), "xs": reshaped((8,), (8, 3))}),
        nim.silence_response: S(nim.silence_response, {"model": m},
                                {"method": choice(("auto", "newton", "picard")),
                                 "max_steps": count(), "rtol": nonneg()}, status=conv),
        nim.stack: S(nim.stack, {"tree": m, "n": 2}, {"n": count()}),
        nim.take: S(nim.take, {"tree": nim.stack(m, 2), "i": 0},
                    {"i": st.one_of(st.integers(min_value=2, max_value=50),
                                    st.integers(max_value=-3, min_value=-50))}),
        nim.tone: S(nim.tone, {"n_in": 8, "channel": 2, "amplitude": 1.0},
                    {"n_in": count(), "width": nonneg(), "amplitude": NONFINITE,
                     "channel": NONFINITE}),
        nim.tones: S(nim.tones, {"n_in": 8, "n_samples": 4, "key": key},
                     {"n_in": count(), "n_samples": count()}),
        nim.train: S(nim.train, {"model": m, "data": xs, "key": key, "steps": 2, "batch_size": 2},
                     {"data": bad_array(xs, (8, 3), (8,)), "steps": count(0),
                      "batch_size": st.one_of(count(), st.just(9)), "log_every": count(),
                      "progress": st.just(3)}),
        nim.train_on_batches: S(nim.train_on_batches, {"model": m, "data": xs,
                                                       "batch_indices": jnp.zeros((2, 2), int)},
                                {"data": bad_array(xs, (8, 3)),
                                 "batch_indices": st.sampled_from([jnp.full((2, 2), 8),
                                                                   jnp.zeros(2, int),
                                                                   jnp.zeros((2, 2))])}),
        nim.with_hyperparams: S(nim.with_hyperparams,
                                {"opt_state": nim.infomax_optimizer().init(m)},
                                {"opt_state": st.just(3)}),
        # info
        ni.ConcatCritic: S(ni.ConcatCritic, {"d_x": 1, "d_y": 1, "key": key},
                           {"d_x": count(), "d_y": count()}),
        ni.SeparableCritic: S(ni.SeparableCritic, {"d_x": 1, "d_y": 1, "key": key},
                              {"d_x": count(), "d_y": count()}),
        ni.DIMEncoder: S(ni.DIMEncoder, {"shape": (8, 8), "features": 4, "key": key},
                         {"shape": st.sampled_from([(8,), (0, 8), (2.5, 8)]), "features": count()}),
        ni.bootstrap_ci: S(ni.bootstrap_ci, {"estimator": mi_est, "x": s1, "y": s2,
                                             "n_resamples": 4, "key": key},
                           {"n_resamples": count(), "estimator": st.just(3),
                            "x": bad_array(s1, (59, 1)), "level": unit(closed_low=False)}),
        ni.permutation_test: S(ni.permutation_test, {"estimator": mi_est, "x": s1, "y": s2,
                                                     "n_permutations": 4, "key": key},
                               {"n_permutations": count(), "estimator": st.just(3),
                                "y": bad_array(s2, (59, 1))}),
        ni.copnorm: S(ni.copnorm, {"x": s1}, {"x": nonfinite(s1)}),
        ni.correlated_gaussian_mi: S(ni.correlated_gaussian_mi, {"rho": 0.5, "d": 1},
                                     {"rho": st.one_of(NONFINITE, st.floats(1.0, 10, **FINITE)),
                                      "d": count()}),
        ni.rho_for_mi: S(ni.rho_for_mi, {"mi": 0.5, "d": 1}, {"mi": nonneg(), "d": count()}),
        ni.dim_objective: S(lambda images, bound="jsd": ni.dim_objective(encoder(), images, bound),
                            {"images": jnp.zeros((2, 8, 8))},
                            {"images": bad_array(jnp.zeros((2, 8, 8)), (2, 8), (2, 7, 8)),
                             "bound": choice(ni.BOUNDS)}),
        ni.donsker_varadhan: S(ni.donsker_varadhan, {"scores": scores},
                               {"scores": bad_array(scores, (6, 5), (6,))}, propagates=("scores",)),
        ni.infonce: S(ni.infonce, {"scores": scores}, {"scores": bad_array(scores, (6, 5))},
                      propagates=("scores",)),
        ni.jensen_shannon: S(ni.jensen_shannon, {"scores": scores},
                             {"scores": bad_array(scores, (6, 5))}, propagates=("scores",)),
        ni.nwj: S(ni.nwj, {"scores": scores}, {"scores": bad_array(scores, (6, 5))},
                  propagates=("scores",)),
        ni.mi_estimate: S(ni.mi_estimate, {"scores": scores, "bound": "infonce"},
                          {"bound": choice(ni.BOUNDS), "scores": reshaped((6, 5))}),
        ni.entropy: S(ni.entropy, {"p": p}, {"p": st.one_of(nonfinite(p), st.just([-0.5, 1.5]),
                                                             st.just([0.2, 0.2])),
                                             "base": st.one_of(positive(), st.just(1.0))}),
        ni.entropy_from_counts: S(ni.entropy_from_counts, {"counts": jnp.array([3, 1, 2])},
                                  {"counts": st.sampled_from([[-1, 2], [1.5, 2.0], [[]]]),
                                   "correction": choice(("miller-madow",)),
                                   "base": st.one_of(positive(), st.just(1.0))}),
        ni.kl: S(ni.kl, {"p": p, "q": p}, {"p": st.just([-0.5, 1.0, 0.5]), "q": reshaped((2,)),
                                           "base": st.just(1.0)}),
        ni.mutual_information: S(ni.mutual_information, {"joint": joint},
                                 {"joint": st.one_of(nonfinite(joint), st.just([[0.5, 0.6],
                                                                                [0.1, -0.2]]),
                                                     reshaped((4,))),
                                  "base": st.just(1.0)}),
        ni.gaussian_channel_mi: S(ni.gaussian_channel_mi, {"chi": jnp.eye(2), "input_cov": cov2,
                                                           "noise_var": 0.1},
                                  {"chi": bad_array(jnp.eye(2), (2,)),
                                   "input_cov": bad_array(cov2, (3, 3)),
                                   "noise_var": positive()}),
        ni.network_channel_mi: S(ni.network_channel_mi, {"model": m, "x": x4,
                                                         "input_cov": jnp.eye(4), "noise_var": 0.1},
                                 {"x": bad_array(x4, (3,)), "input_cov": reshaped((3, 3)),
                                  "noise_var": positive()},
                                 status=lambda r: bool(np.isfinite(r))),
        ni.gaussian_entropy: S(ni.gaussian_entropy, {"cov": cov2},
                               {"cov": bad_array(cov2, (2, 3), (2,))}),
        ni.gaussian_kl: S(ni.gaussian_kl, {"mu0": jnp.zeros(2), "cov0": cov2, "mu1": jnp.zeros(2),
                                           "cov1": cov2},
                          {"mu0": bad_array(jnp.zeros(2), (3,)), "cov1": bad_array(cov2, (3, 3))}),
        ni.gaussian_mi: S(ni.gaussian_mi, {"cov": cov2, "d_x": 1},
                          {"cov": bad_array(cov2, (2, 3)), "d_x": st.one_of(count(), st.just(2))}),
        ni.gaussian_mi_samples: S(ni.gaussian_mi_samples, {"x": s1, "y": s2},
                                  {"x": bad_array(s1, (59, 1)), "base": st.one_of(positive(),
                                                                                  st.just(1.0))}),
        ni.gcmi: S(ni.gcmi, {"x": s1, "y": s2}, {"x": bad_array(s1, (59, 1)), "y": nonfinite(s2),
                                                 "base": st.just(1.0)}),
        ni.gccmi: S(ni.gccmi, {"x": s1, "y": s2, "z": s3},
                    {"z": bad_array(s3, (59, 1)), "base": st.just(-1.0)}),
        ni.gcmi_mixed: S(ni.gcmi_mixed, {"x": s1, "labels": labels},
                         {"x": bad_array(s1, (59, 1)), "labels": st.just(labels - 1),
                          "n_classes": count()}),
        ni.joint_histogram: S(ni.joint_histogram, {"x": labels, "y": labels, "n_x": 3, "n_y": 3},
                              {"x": st.just(labels + 5), "n_x": count(), "y": st.just(labels[:5])}),
        ni.plugin_mi: S(ni.plugin_mi, {"x": labels, "y": labels},
                        {"n_x": st.sampled_from([1, 2, 0, -1]), "x": st.just(labels.astype(float) + 0.5),
                         "y": st.just(jnp.zeros(0, int))}),
        ni.quantize: S(ni.quantize, {"x": s1[:, 0], "n_bins": 4},
                       {"n_bins": count(), "x": bad_array(s1[:, 0], (60, 2))}),
        ni.kl_entropy: S(ni.kl_entropy, {"x": s1, "k": 3},
                         {"x": bad_array(s1, (2, 1)), "k": count(), "metric": choice(("euclidean", "chebyshev", "max")),
                          "chunk": count()}),
        ni.ksg_mi: S(ni.ksg_mi, {"x": s1, "y": s2, "k": 3},
                     {"x": bad_array(s1, (59, 1)), "k": st.one_of(count(), st.just(60)),
                      "method": choice(("auto", "brute", "tree")), "chunk": count(),
                      "bias_correction": choice(("gaussian",)), "n_surrogates": count()}),
        ni.ksg_cmi: S(ni.ksg_cmi, {"x": s1, "y": s2, "z": s3, "k": 3},
                      {"z": bad_array(s3, (59, 1)), "k": count(),
                       "method": choice(("auto", "brute", "tree"))}),
        ni.train_critic: S(ni.train_critic, {"x": s1, "y": s2, "key": key, "steps": 2},
                           {"x": bad_array(s1, (59, 1)), "steps": count(),
                            "bound": choice(ni.BOUNDS), "learning_rate": positive()}),
        ni.train_dim: S(ni.train_dim, {"images": jnp.zeros((4, 8, 8)), "key": key, "steps": 1,
                                       "batch_size": 2},
                        {"images": bad_array(jnp.zeros((4, 8, 8)), (4, 8)), "steps": count(0),
                         "batch_size": count(), "learning_rate": positive()}),
        ni.transfer_entropy: S(ni.transfer_entropy, {"source": s1[:, 0], "target": s2[:, 0]},
                               {"source": bad_array(s1[:, 0], (59,)), "lag": count(),
                                "history": count(), "estimator": choice(("ksg", "gaussian")),
                                "k": count()}),
        # ring
        nr.RingConfig: S(nr.RingConfig, {"N": 16, "tau_d": 1e-3},
                         {"N": count(2), "dt": positive(), "tau_r": positive(), "tau_d": positive(),
                          "tau_w": positive(), "lam": nonneg(), "amplitude": NONFINITE,
                          "gain": NONFINITE, "drive_period": positive()}),
        nr.align_rows: S(nr.align_rows, {"w_full": w16}, {"w_full": bad_array(w16, (16, 8))},
                         propagates=("w_full",)),
        nr.circulant_kernel: S(nr.circulant_kernel, {"w_full": w16},
                               {"w_full": bad_array(w16, (16, 8))}, propagates=("w_full",)),
        nr.translation_invariance: S(nr.translation_invariance, {"w_full": w16},
                                     {"w_full": bad_array(w16, (16, 8))}, propagates=("w_full",)),
        nr.default_block: S(nr.default_block, {"config": cfg}, {"config": st.just(16)}),
        nr.initial_state: S(nr.initial_state, {"config": cfg, "w0": jnp.zeros(16)},
                            {"w0": bad_array(jnp.zeros(16), (15,)),
                             "variant": choice(("full", "circulant", "single")),
                             "buffer_len": count()}),
        nr.kernel_stats: S(nr.kernel_stats, {"kernel": jnp.sin(jnp.arange(16.0))},
                           {"kernel": bad_array(jnp.sin(jnp.arange(16.0)), (4, 4))}),
        nr.phi: S(nr.phi, {"v": x4}, {"v": nonfinite(x4), "gain": NONFINITE}, propagates=("v",)),
        nr.simulate: S(nr.simulate, {"config": cfg, "w0": jnp.zeros(16), "steps": 3},
                       {"w0": bad_array(jnp.zeros(16), (15,)), "steps": count(0),
                        "variant": choice(("full", "circulant", "single")),
                        "record_every": count(), "record_weights_every": count(),
                        "block": count(), "periods": count(), "config": st.just("cfg")}),
        nr.sweep: S(nr.sweep, {"config": cfg, "w0": jnp.zeros(16), "values": {"lam": [1.0, 2.0]},
                               "steps": 3},
                    {"values": st.sampled_from([{"lam": [math.nan]}, {"nope": [1.0]},
                                                {"lam": [1.0, 2.0], "tau_w": [1.0, 2.0, 3.0]}, {}]),
                     "steps": count(0), "w0": nonfinite(jnp.zeros(16))}),
        nr.wave_speed: S(nr.wave_speed, {"record": jnp.ones((8, 16)), "frame_dt": 0.01},
                         {"record": bad_array(jnp.ones((8, 16)), (16,)), "frame_dt": positive(),
                          "lag": count(), "min_contrast": nonneg()}),
        # sparse
        ns.fista: S(ns.fista, {"D": D, "X": X, "alpha": 0.1, "max_steps": 20},
                    {"D": bad_array(D, (8,), (7, 16)), "X": bad_array(X, (5, 7)),
                     "alpha": nonneg(), "max_steps": count(), "tol": nonneg(),
                     "check_every": count(), "lipschitz_constant": positive()}, status=conv),
        ns.ista: S(ns.ista, {"D": D, "X": X, "alpha": 0.1, "max_steps": 20},
                   {"D": bad_array(D, (7, 16)), "X": nonfinite(X), "alpha": nonneg(),
                    "max_steps": count(), "tol": nonneg()}, status=conv),
        ns.lasso_lars: S(ns.lasso_lars, {"D": D, "X": X, "alpha": 0.1},
                         {"D": bad_array(D, (7, 16)), "X": bad_array(X, (5, 7)), "alpha": nonneg(),
                          "max_active": count(), "max_steps": count(), "tol": nonneg()},
                         status=conv),
        ns.lasso_objective: S(ns.lasso_objective, {"D": D, "X": X, "A": jnp.zeros((5, 16)),
                                                   "alpha": 0.1},
                              {"A": bad_array(jnp.zeros((5, 16)), (5, 15)), "alpha": nonneg(),
                               "D": reshaped((7, 16))}, propagates=("A",)),
        ns.omp: S(ns.omp, {"D": D, "X": X, "n_nonzero": 3},
                  {"D": bad_array(D, (7, 16)),
                   "X": bad_array(X, (5, 7)), "n_nonzero": st.one_of(count(), st.just(17))}),
        ns.sparse_encode: S(ns.sparse_encode, {"X": X, "D": D, "alpha": 0.1},
                            {"X": bad_array(X, (5, 7)), "alpha": nonneg(),
                             "method": choice(("auto", "lasso_lars", "fista", "omp")),
                             "n_nonzero": count()}, status=conv),
        ns.learn_dictionary: S(ns.learn_dictionary, {"X": X, "n_atoms": 4, "alpha": 0.1,
                                                     "key": key, "steps": 2},
                               {"X": bad_array(X, (5,), (0, 8)), "n_atoms": count(),
                                "alpha": nonneg(), "steps": count(),
                                "method": choice(("batch", "minibatch"))}),
        ns.update_dictionary: S(ns.update_dictionary, {"D": D, "A_stats": jnp.eye(16),
                                                       "B_stats": jnp.zeros((8, 16))},
                                {"A_stats": bad_array(jnp.eye(16), (16, 15)),
                                 "B_stats": bad_array(jnp.zeros((8, 16)), (8, 15))}),
        ns.lipschitz: S(ns.lipschitz, {"D": D}, {"D": bad_array(D, (8,)), "steps": count()}),
        ns.gabor: S(ns.gabor, {"params": jnp.ones(9), "shape": (8, 8)},
                    {"params": bad_array(jnp.ones(9), (8,)),
                     "shape": st.sampled_from([(8,), (0, 8), (8.5, 8)])}, propagates=("params",)),
        ns.gabor_fit: S(ns.gabor_fit, {"atoms": jnp.ones((1, 6, 6)), "key": key, "n_starts": 1,
                                       "max_steps": 2},
                        {"atoms": bad_array(jnp.ones((1, 6, 6)), (6,), (1, 2, 2)),
                         "n_starts": count(), "max_steps": count(), "rtol": nonneg(),
                         "atol": nonneg()}),
        ns.hoyer: S(ns.hoyer, {"x": X}, {"x": nonfinite(X)}, propagates=("x",)),
        ns.kurtosis: S(ns.kurtosis, {"x": X}, {"x": nonfinite(X)}, propagates=("x",)),
        ns.l0: S(ns.l0, {"x": X}, {"tol": nonneg()}),
        ns.l1: S(ns.l1, {"x": X}, {"x": nonfinite(X)}, propagates=("x",)),
        ns.relu: S(ns.relu, {"x": X}, {"x": nonfinite(X), "theta": NONFINITE}, propagates=("x",)),
        ns.box_diff: S(ns.box_diff, {"x": X, "windows": [1, 2]},
                       {"windows": st.sampled_from([[0], [-1], [1.5], []]), "pad": count(0)},
                       propagates=("x",)),
        ns.temporal_diff: S(ns.temporal_diff, {"x": X, "taus": [1, 2]},
                            {"taus": st.sampled_from([[0], [-1], [1.5], [], [100]])}),
        ns.spatial_diff: S(ns.spatial_diff, {"images": img},
                           {"images": bad_array(img, (16,))}, propagates=("images",)),
        ns.whiten: S(ns.whiten, {"images": img}, {"images": bad_array(img, (16,)), "f0": positive()}),
        ns.pca: S(ns.pca, {"X": X, "k": 2}, {"X": bad_array(X, (5,)), "k": st.one_of(count(),
                                                                                   st.just(9))}),
        ns.extract_patches: S(ns.extract_patches, {"images": img, "size": 4, "n": 3, "key": key},
                              {"images": bad_array(img, (16, 16, 2, 1)),
                               "size": st.one_of(count(), st.just(17)), "n": count()}),
        ns.sinusoid_dictionary: S(ns.sinusoid_dictionary, {"length": 8, "n_freqs": 2},
                                  {"length": count(), "n_freqs": count()}),
        ns.default_tol: S(ns.default_tol, {"dtype": jnp.float32},
                          {"dtype": st.sampled_from([jnp.int32, "nope", jnp.complex64]),
                           "float32": nonneg(), "float64": nonneg()}),
        ns.digits_video: S(ns.digits_video, {"n_digits": 2, "fade": 2, "key": key},
                           {"n_digits": count(), "fade": count(0)}),
        ns.panning_pixel: S(ns.panning_pixel, {}, {"row": count(0), "speed": positive(),
                                                   "image": count(0)}),
        ns.sample_images: S(ns.sample_images, {}, {"downsample": count()}),
        ns.DictionaryLearning: S(lambda **kw: ns.DictionaryLearning(**kw).fit(X),
                                 {"n_components": 4, "max_iter": 2},
                                 {"n_components": count(), "alpha": nonneg(), "max_iter": count(),
                                  "tol": nonneg(), "init": choice(("data", "random"))}),
        ns.MiniBatchDictionaryLearning: S(
            lambda **kw: ns.MiniBatchDictionaryLearning(**kw).fit(X),
            {"n_components": 4, "max_iter": 1, "batch_size": 2},
            {"n_components": count(), "alpha": nonneg(), "max_iter": count(),
             "batch_size": count()}),
        ns.SparseCoder: S(lambda **kw: ns.SparseCoder(**kw).transform(X), {"dictionary": D.T},
                          {"dictionary": bad_array(D.T, (16,)),
                           "transform_algorithm": choice(("auto", "lasso_lars", "fista", "omp")),
                           "transform_alpha": nonneg()}),
        # parallel
        npar.axis_size: S(npar.axis_size, {"mesh": mesh}, {"mesh": st.just("mesh")}),
        npar.mesh_axis: S(npar.mesh_axis, {"mesh": mesh}, {"mesh": st.just(3)}),
        npar.replicated: S(npar.replicated, {"mesh": mesh}, {"mesh": st.just(None)}),
        npar.batch_sharding: S(npar.batch_sharding, {"mesh": mesh, "axis": 0, "ndim": 2},
                               {"axis": st.integers(min_value=2, max_value=9), "ndim": count(),
                                "mesh": st.just("m")}),
        npar.check_divisible: S(npar.check_divisible, {"name": "batch", "size": 4, "mesh": mesh},
                                {"size": count()}, names={"size": ("batch",)}),
        npar.data_mesh: S(npar.data_mesh, {"n_devices": 1},
                          {"n_devices": st.one_of(count(), st.integers(min_value=2, max_value=99))}),
        npar.put_global: S(npar.put_global, {"x": xs, "sharding": npar.batch_sharding(mesh)},
                           {"sharding": st.just("s")}),
        npar.replicate: S(npar.replicate, {"tree": xs, "mesh": mesh}, {"mesh": st.just("m")}),
    }
    del optax
    return t
