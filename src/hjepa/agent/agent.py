"""The agent, LeCun's six modules as explicit parts, and the loop that runs it in an env.

    configurator   the settings the modules were built from (`configurator.py`)
    perception     observation -> latent state (the world model's encoder)
    world model    pred(s, a) -> s' (rolled out by the actor's planner)
    cost           intrinsic energy to the goal + the learned critic (`cost.py`)
    actor          Mode-2: receding-horizon planning through the world model;
                   Mode-1: the reactive policy pi(s, g), no planning
    memory         the recent states, goals, actions and predicted / realized costs

`run_episode` drives any Gymnasium env whose observations the encoder takes; the goal is an
observation (`goal_obs`, e.g. `info["goal_obs"]` of the hjepa envs).
"""

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from hjepa.agent.cost import CostModule, Imagination
from hjepa.agent.memory import ShortTermMemory
from hjepa.agent.policy import ReactivePolicy
from hjepa.errors import ConfigError, ShapeError
from hjepa.plan.mpc import RecedingHorizon


class Actor:
    """Chooses actions: Mode-2 (plan through the world model) or Mode-1 (reactive policy)."""

    def __init__(
        self,
        imagination: Imagination,
        mpc: RecedingHorizon | None,
        policy: ReactivePolicy | None = None,
    ):
        if mpc is None and policy is None:
            raise ConfigError("the actor needs a planner (Mode-2) or a policy (Mode-1)")
        self.imagination, self.mpc, self.policy = imagination, mpc, policy
        self.mode = 2 if mpc is not None else 1
        # DAgger: with a student set, Mode-2 only labels the state and the student acts
        self.student: ReactivePolicy | None = None
        self._reactive = None  # Mode-1: the policy with this episode's goal folded in

    def reset(self, goal: torch.Tensor) -> None:
        """Start an episode towards the goal latent [1, D]."""
        if self.mpc is not None:
            self.mpc.reset()
        if self.mode == 1:
            self._reactive = self.policy.for_goal(goal)

    def compute_per_replan(self) -> int:
        """Imagined predictor steps of the last replan (candidate sequences x horizon)."""
        return 0 if self.mode == 1 else imagined_steps(self.mpc)

    def plan(self, state: torch.Tensor, goal: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Mode-2's action [B, A] from the receding-horizon planner through the world model,
        and the imagined predictor steps it took (0 between replans)."""
        replans = self.mpc.will_replan
        action = self.mpc.act(self.imagination, state, goal)
        return action, imagined_steps(self.mpc) if replans else 0

    def act(self, state: torch.Tensor, goal: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Actions [B, A] and {"planned": bool (a new plan was made), "cost": its cost,
        "imagined_steps": predictor steps imagined for this decision}, plus "label" (Mode-2's
        action) when a DAgger student acts."""
        if self.mode == 1:
            if self._reactive is None:
                raise ConfigError("actor.reset(goal) must be called before act()")
            with torch.inference_mode():
                return self._reactive(state), {"planned": False, "cost": 0.0, "imagined_steps": 0}
        planned = self.mpc.will_replan
        action, imagined = self.plan(state, goal)
        info = {
            "planned": planned,
            "cost": float(self.mpc.last_info.get("cost", torch.zeros(1))[0]),
            "imagined_steps": imagined,
        }
        if self.student is not None:
            info["label"] = action
            with torch.inference_mode():
                action = self.student(state, goal)
        return action, info


def imagined_steps(mpc: RecedingHorizon) -> int:
    """Predictor steps imagined by the last replan of `mpc` (candidate sequences x horizon)."""
    return int(mpc.last_info.get("evaluations", 0)) * mpc.planner.horizon


@dataclass
class Agent:
    configurator: object
    perception: torch.nn.Module
    world_model: torch.nn.Module
    cost: CostModule
    actor: Actor
    memory: ShortTermMemory = field(default_factory=ShortTermMemory)

    def __post_init__(self):
        self.goal: torch.Tensor | None = None

    @torch.inference_mode()
    def perceive(self, obs) -> torch.Tensor:
        """Observation(s) [..., C, H, W] (numpy or torch) -> latent states [B, D]."""
        x = torch.as_tensor(np.asarray(obs))
        enc = self.perception
        expected = (enc.in_chans, enc.img_size, enc.img_size)
        if tuple(x.shape[-3:]) != expected:
            raise ShapeError(f"observation: expected [..., {expected}], got {tuple(x.shape)}")
        return self.world_model.encode(x.reshape(-1, *expected)).clone()

    def reset(self, goal_obs) -> None:
        """Start an episode towards the goal observation (a goal image of this env)."""
        self.goal = self.perceive(goal_obs)
        self.actor.reset(self.goal)
        self.memory.start_episode()

    def act(self, obs) -> tuple[np.ndarray, dict]:
        """One decision: action [A] (or [B, A]) as float32 numpy, and the actor's info plus
        "seconds", the wall time from observation to action (perception + actor), and
        "actor_seconds", the actor's share."""
        if self.goal is None:
            raise ConfigError("agent.reset(goal_obs) must be called before act()")
        start = time.perf_counter()
        state = self.perceive(obs)
        perceived = time.perf_counter()
        action, info = self.actor.act(state, self.goal.expand_as(state))
        done = time.perf_counter()
        info["seconds"], info["actor_seconds"] = done - start, done - perceived
        imagination = self.actor.imagination
        with torch.inference_mode():
            realized = float(self.cost.state_cost(state, self.goal)[0])
            executed = imagination.executed(action.detach())
            # the prediction to learn from, where the world model's correction uses it
            predicted = None
            if imagination.correction is not None:
                predicted = self.world_model.rollout(state, executed[:, None])[0, 0]
        label = info.pop("label", action)  # what Mode-2 chose, even when a student acted
        self.memory.record(
            state[0],
            self.goal[0],
            label[0].detach(),
            info["cost"],
            realized,
            executed=executed[0],
            predicted_next=predicted,
        )
        out = action.detach().cpu().numpy().astype(np.float32)
        return (out[0] if out.shape[0] == 1 else out), info


@dataclass
class EpisodeResult:
    success: bool
    steps: int
    positions: np.ndarray  # [T + 1, 2] info["agent_pos"] when the env reports it, else empty
    goal_position: tuple | None  # info["goal_pos"] of the reset, when the env reports it
    decision_seconds: list[float]  # every step's observation-to-action time
    actor_seconds: list[float]  # every step's actor time (planner or policy, no perception)
    replan_seconds: list[float]  # decision times of the steps that (re)planned
    imagined_steps: list[int]  # every step's imagined predictor steps (all levels)
    final_distance: float = float("nan")

    def as_dict(self) -> dict:
        out = dict(vars(self))
        out["positions"] = self.positions.tolist()
        return out


def run_episode(
    agent: Agent,
    env,
    seed: int,
    options: dict | None = None,
    max_steps: int = 200,
    frames: list | None = None,
) -> EpisodeResult:
    """Run one episode of `env` (goal from `info["goal_obs"]`); success = terminated.

    A task's own step budget (`options["budget"]`, e.g. Push-T's 2d) replaces `max_steps`;
    "budget" and "band" (a label for reports) are the harness's keys, not passed to the env.
    With a `frames` list, `env.render()` is appended to it after the reset and every step."""
    options = dict(options or {})
    max_steps = int(options.pop("budget", max_steps))
    options.pop("band", None)
    obs, info = env.reset(seed=seed, options=options or None)
    goal_position = _point(info.get("goal_pos"))
    if "goal_obs" not in info:
        raise ConfigError(
            "the env gave no info['goal_obs'] on reset with a goal: it does not follow the "
            "goal-env protocol (hjepa.envs.goal)"
        )
    agent.reset(info["goal_obs"])
    positions = [info["agent_pos"]] if "agent_pos" in info else []
    if frames is not None:
        frames.append(env.render())
    decisions, actor, replans, imagined, terminated = [], [], [], [], False
    for _ in range(max_steps):
        action, decision = agent.act(obs)
        decisions.append(decision["seconds"])
        actor.append(decision["actor_seconds"])
        imagined.append(decision["imagined_steps"])
        if decision["planned"]:
            replans.append(decision["seconds"])
        obs, _, terminated, truncated, info = env.step(action)
        if "agent_pos" in info:
            positions.append(info["agent_pos"])
        if frames is not None:
            frames.append(env.render())
        if terminated or truncated:
            break
    return EpisodeResult(
        success=bool(terminated),
        steps=len(decisions),
        positions=np.asarray(positions, dtype=np.float32).reshape(-1, 2),
        goal_position=goal_position,
        decision_seconds=decisions,
        actor_seconds=actor,
        replan_seconds=replans,
        imagined_steps=imagined,
        final_distance=float(info.get("distance", float("nan"))),
    )


def _point(value) -> tuple[float, float] | None:
    return None if value is None else tuple(float(v) for v in np.asarray(value).reshape(-1)[:2])
