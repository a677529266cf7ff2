"""Data-collection policies, vectorized over N environments.

A policy is a callable `policy(obs, states, rng) -> actions` (float32 [N, A]) with a
`reset(num_envs, rng)` method called at the start of every batch of episodes. All randomness comes
from the numpy Generator passed in, so collection is reproducible from a seed. For the arena
simulators actions are (dx, dy) displacements (N envs at once); a Gymnasium env gets obs [1, ...],
states [1, S] and must return actions [1, A] inside its Box action space.

`load_policy(spec, **kwargs)` builds one from a name ("random", "random_walk") or from
"package.module:attribute" naming a user class (instantiated with `kwargs`), a policy object, or
a plain function `fn(obs, states, rng, **kwargs)`. What it returns checks every batch of actions.
`BoxUniform` is the "random" policy of Gymnasium envs (uniform over their Box).
"""

import functools
import importlib
import inspect
from typing import Protocol, runtime_checkable

import numpy as np

from hjepa.errors import ActionError, ConfigError


@runtime_checkable
class Policy(Protocol):
    """What `collect` needs from a policy."""

    def reset(self, num_envs: int, rng: np.random.Generator) -> None: ...

    def __call__(
        self, obs: np.ndarray, states: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray: ...


def _unit_vectors(angles: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


class UniformRandom:
    """Displacements drawn uniformly from the disc of radius `max_norm`, independently per step."""

    def __init__(self, max_norm: float = 2.45):
        if max_norm <= 0:
            raise ConfigError(f"max_norm must be positive, got {max_norm}")
        self.max_norm = float(max_norm)

    def reset(self, num_envs: int, rng: np.random.Generator) -> None:
        """Stateless: nothing to do."""

    def __call__(self, obs, states, rng: np.random.Generator) -> np.ndarray:
        n = len(states)
        radius = self.max_norm * np.sqrt(rng.random(n))
        angle = rng.uniform(0.0, 2.0 * np.pi, n)
        return (radius[:, None] * _unit_vectors(angle)).astype(np.float32)


class RandomWalk:
    """Noisy directional random walk (PLDM-style), sliding along walls it runs into.

    Each env keeps a heading that drifts by N(0, `turn_std`) radians per step and is redrawn
    uniformly with probability `redraw_prob`; the step length is N(`step_mean`, `step_std`)
    clipped to [`step_min`, `step_max`] (and to `max_norm` when given).

    Wall sliding (`wall_slide`, an angle in radians; None turns it off): when the agent moved
    less than half the commanded amount along x (or y), it is pressing on a wall; its heading is
    then set `wall_slide` radians off that wall's normal, keeping its signs, so it keeps pressing
    on the wall while sliding along it (and slips through a door in that wall). Blocked on both
    axes (a corner), it turns around. This reads the agent position from `states[:, :2]` (x, y),
    as the arena simulators give. Sliding is what lets a walk of ~1 px steps find a door: with the
    defaults about 43% of 91-step TwoRooms episodes from uniform starts pass through the door
    (without sliding, under 20% for any turn rate).
    """

    def __init__(
        self,
        step_mean: float = 1.0,
        step_std: float = 0.4,
        step_min: float = 0.2,
        step_max: float = 1.8,
        turn_std: float = 0.02,
        redraw_prob: float = 0.002,
        wall_slide: float | None = 0.8,
        max_norm: float | None = None,
    ):
        if not 0 <= step_min <= step_max or step_std < 0 or turn_std < 0:
            raise ConfigError("RandomWalk needs 0 <= step_min <= step_max, step_std, turn_std >= 0")
        if not 0 <= redraw_prob <= 1:
            raise ConfigError(f"redraw_prob must be in [0, 1], got {redraw_prob}")
        if wall_slide is not None and not 0 <= wall_slide <= np.pi / 2:
            raise ConfigError(f"wall_slide must be an angle in [0, pi/2] or None, got {wall_slide}")
        self.step_mean, self.step_std = float(step_mean), float(step_std)
        self.step_min, self.step_max = float(step_min), float(step_max)
        if max_norm is not None:
            self.step_max = min(self.step_max, float(max_norm))
            self.step_min = min(self.step_min, self.step_max)
        self.turn_std, self.redraw_prob = float(turn_std), float(redraw_prob)
        self.wall_slide = wall_slide
        self.heading = np.zeros(0)
        self._last_pos = self._last_action = None

    def reset(self, num_envs: int, rng: np.random.Generator) -> None:
        """Draw a fresh heading for each of the `num_envs` environments."""
        self.heading = rng.uniform(0.0, 2.0 * np.pi, num_envs)
        self._last_pos = self._last_action = None

    def __call__(self, obs, states, rng: np.random.Generator) -> np.ndarray:
        n = len(states)
        if self.heading.shape != (n,):
            raise ConfigError(f"RandomWalk was reset for {self.heading.size} envs, called with {n}")
        if self.wall_slide is not None and self._last_pos is not None:
            self.heading = self._slide(np.asarray(states)[:, :2] - self._last_pos)
        turn = rng.normal(0.0, self.turn_std, n)
        redraw = rng.random(n) < self.redraw_prob
        fresh = rng.uniform(0.0, 2.0 * np.pi, n)
        self.heading = np.where(redraw, fresh, self.heading + turn)
        length = np.clip(rng.normal(self.step_mean, self.step_std, n), self.step_min, self.step_max)
        actions = (length[:, None] * _unit_vectors(self.heading)).astype(np.float32)
        if self.wall_slide is not None and np.shape(states)[1] >= 2:
            self._last_pos = np.array(states[:, :2], dtype=np.float64)
            self._last_action = actions.astype(np.float64)
        return actions

    def _slide(self, moved: np.ndarray) -> np.ndarray:
        """Headings after the last move: slide along walls pressed on, turn around in corners."""
        blocked = np.abs(moved) < 0.5 * np.abs(self._last_action)
        h = self.heading
        sx = np.where(np.cos(h) < 0, -1.0, 1.0)
        sy = np.where(np.sin(h) < 0, -1.0, 1.0)
        into, along = np.cos(self.wall_slide), np.sin(self.wall_slide)
        slide_x = np.arctan2(sy * along, sx * into)  # pressing on a wall across x
        slide_y = np.arctan2(sy * into, sx * along)  # pressing on a wall across y
        bx, by = blocked[:, 0], blocked[:, 1]
        return np.select([bx & by, bx, by], [h + np.pi, slide_x, slide_y], h)


BUILTIN = {"random": UniformRandom, "random_walk": RandomWalk}


class BoxUniform:
    """Actions uniform in the box [`low`, `high`] (per dimension), independently per step."""

    def __init__(self, low, high):
        self.low, self.high = np.asarray(low), np.asarray(high)

    def reset(self, num_envs: int, rng: np.random.Generator) -> None:
        """Stateless: nothing to do."""

    def __call__(self, obs, states, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, (len(states), *self.low.shape)).astype(np.float32)


class CheckedPolicy:
    """Wraps a policy: `reset` is optional for it, and every batch of actions is checked (shape,
    finite, and inside `bounds` = (low, high) when given)."""

    def __init__(self, policy, name: str, action_dim: int = 2, bounds=None):
        self.policy, self.name, self.action_dim = policy, name, action_dim
        self.bounds = bounds

    def reset(self, num_envs: int, rng: np.random.Generator) -> None:
        reset = getattr(self.policy, "reset", None)
        if callable(reset):
            reset(num_envs, rng)

    def __call__(self, obs, states, rng: np.random.Generator) -> np.ndarray:
        actions = np.asarray(self.policy(obs, states, rng))
        expected = (len(states), self.action_dim)
        if actions.shape != expected:
            raise ActionError(
                f"policy {self.name!r} returned actions of shape {actions.shape}, "
                f"expected {expected} (one {self.action_dim}-d action per env)"
            )
        if actions.dtype.kind not in "fiu" or not np.all(np.isfinite(actions)):
            raise ActionError(f"policy {self.name!r} returned non-numeric, NaN or Inf actions")
        if self.bounds is not None:
            self._check_bounds(actions)
        return actions.astype(np.float32, copy=False)

    def _check_bounds(self, actions: np.ndarray) -> None:
        low, high = self.bounds
        if np.all(actions >= low) and np.all(actions <= high):
            return
        raise ActionError(
            f"policy {self.name!r} returned actions {actions.tolist()} outside the action space "
            f"[{np.asarray(low).tolist()}, {np.asarray(high).tolist()}]"
        )


def _import_attribute(spec: str):
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"policy {spec!r}: expected 'package.module:callable'")
    try:
        target = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"policy {spec!r}: cannot import module {module_name!r} ({exc})") from exc
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigError(
                f"policy {spec!r}: module {module_name!r} has no attribute {attribute!r}"
            ) from None
    if not callable(target):
        raise ConfigError(f"policy {spec!r}: {attribute!r} is not callable")
    return target


def _build(target, spec: str, kwargs: dict):
    if inspect.isclass(target):
        return target(**kwargs)
    if callable(getattr(target, "reset", None)):
        if kwargs:
            raise ConfigError(f"policy {spec!r} is an object; it takes no keyword arguments")
        return target
    return functools.partial(target, **kwargs) if kwargs else target


def load_policy(spec: str, action_dim: int = 2, action_bounds=None, **kwargs) -> CheckedPolicy:
    """The policy named by `spec`, built with `kwargs`, wrapped to check its actions: shape
    [N, `action_dim`], finite, and inside `action_bounds` = (low, high) when given.

    `spec` is "random" (UniformRandom), "random_walk" (RandomWalk), or "package.module:name" for
    a user class, policy object or plain function. ConfigError when it cannot be built.
    """
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"policy must be a non-empty string, got {spec!r}")
    if spec in BUILTIN:
        target = BUILTIN[spec]
    elif ":" in spec:
        target = _import_attribute(spec)
    else:
        known = ", ".join(sorted(BUILTIN))
        raise ConfigError(f"unknown policy {spec!r}; use one of {known} or 'package.module:name'")
    try:
        policy = _build(target, spec, kwargs)
    except TypeError as exc:
        raise ConfigError(f"policy {spec!r} cannot be built with {kwargs} ({exc})") from exc
    return CheckedPolicy(policy, spec, action_dim, action_bounds)
