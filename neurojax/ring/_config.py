"""Constants of the delayed plastic ring network (seed 001), validated, with derived quantities."""

import warnings

import equinox as eqx

from .._checks import check_number, check_positive_int


def check_config(config) -> None:
    """TypeError unless `config` is a :class:`RingConfig`."""
    if not isinstance(config, RingConfig):
        raise TypeError(f"`config` must be a RingConfig, got {type(config).__name__}")


class RingConfig(eqx.Module):
    r"""Ring of `N` rate neurons, $\tau_r \dot r = -r + \varphi(u + \int w\,r(t - \tau_d))$ (seed 001).

    Defaults are the seed's: `dt` = 0.2 ms, $\tau_r$ = 5 ms, $\tau_d$ = 15 ms, $\tau_w$ = 50 s,
    $\lambda$ = 20, drive amplitude 5000, gain 10, drive period $T = N\,dt$.
    """

    N: int = eqx.field(static=True, default=500)
    dt: float = eqx.field(static=True, default=2e-4)
    tau_r: float = eqx.field(static=True, default=5e-3)
    tau_d: float = eqx.field(static=True, default=15e-3)
    tau_w: float = eqx.field(static=True, default=50.0)
    lam: float = eqx.field(static=True, default=20.0)
    amplitude: float = eqx.field(static=True, default=5000.0)
    gain: float = eqx.field(static=True, default=10.0)
    drive_period: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        check_positive_int("N", self.N)
        for name in ("dt", "tau_r", "tau_d", "tau_w"):
            check_number(name, getattr(self, name), low=0.0, strict=True)
        check_number("lam", self.lam, low=0.0)
        check_number("amplitude", self.amplitude)
        check_number("gain", self.gain)
        if self.drive_period is not None:
            check_number("drive_period", self.drive_period, low=0.0, strict=True)
        for name in ("tau_r", "tau_w"):  # explicit Euler: dt/τ ≥ 2 diverges, ≥ 1 overshoots
            if self.dt >= getattr(self, name):
                raise ValueError(f"`dt` ({self.dt}) must be smaller than `{name}` "
                                 f"({getattr(self, name)}): explicit Euler of a time constant "
                                 f"≤ dt overshoots or diverges")
        ratio = self.tau_d / self.dt
        if round(ratio) < 1:
            raise ValueError(f"`tau_d` ({self.tau_d}) must be at least one step `dt` ({self.dt}): "
                             f"the delay would round to {round(ratio)} steps")
        if abs(ratio - round(ratio)) > 1e-6 * max(1.0, ratio):
            warnings.warn(
                f"`tau_d` ({self.tau_d}) is not a multiple of `dt` ({self.dt}); the delay is rounded to "
                f"{round(ratio)} steps", stacklevel=2)

    @property
    def T(self) -> float:
        """Drive period (s): `drive_period`, or the seed's $N\\,dt$."""
        return self.N * self.dt if self.drive_period is None else self.drive_period

    @property
    def delay_steps(self) -> int:
        """$\\tau_d / dt$ rounded, as the seed's `round(15e-3 / dt)`."""
        return int(round(self.tau_d / self.dt))

    @property
    def alpha(self) -> float:
        return 1.0 / self.tau_r

    @property
    def beta(self) -> float:
        return 1.0 / self.tau_w

    @property
    def init_steps(self) -> int:
        """Length of the seed's warm-up (`init_travel=1`): the smallest multiple of N above the delay."""
        steps = 0
        while steps <= self.delay_steps:
            steps += self.N
        return steps

    def steps_for(self, periods: int) -> int:
        """Number of Euler steps of `periods` drive periods (the seed's `len(arange(0, periods*T, dt))`)."""
        import numpy as np

        return len(np.arange(0, check_positive_int("periods", periods) * self.T, self.dt))
