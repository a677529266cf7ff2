"""The configurator: turns a task spec (YAML) into configured modules, i.e. a ready agent.

    cfg = load_config("configs/agent_two_rooms.yaml", ["planner.kind=cem"], root=AgentConfig)
    agent = Configurator(cfg, "runs/two_rooms").build()

It loads the world model from its run folder, trains (or reloads) the critic on the run's
trajectory store, builds the cost module, the planner inside a receding-horizon loop, and for
Mode-1 the reactive policy distilled from Mode-2 (trained on the first use, then reloaded).
Trained parts are cached in `<run>/agent/` next to the settings they were trained with; a change
of those settings retrains them.
"""

from dataclasses import dataclass, field
from pathlib import Path

import gymnasium
import numpy as np
import torch
from tqdm.auto import tqdm

from hjepa.agent.agent import Actor, Agent, run_episode
from hjepa.agent.correction import ExperienceCorrection
from hjepa.agent.cost import CostModule, Imagination
from hjepa.agent.critic import DistanceCritic, train_critic
from hjepa.agent.memory import ShortTermMemory
from hjepa.agent.policy import ReactivePolicy, distill
from hjepa.config import to_dict
from hjepa.data.windows import split_episodes
from hjepa.envs import SIM_REGISTRY, make_sim
from hjepa.envs.arena import layout_key
from hjepa.envs.collect import run_episodes
from hjepa.envs.policies import load_policy
from hjepa.envs.tasks import goal_tasks, task_set
from hjepa.errors import CheckpointError, ConfigError
from hjepa.experiment import load_run, trajectory_store
from hjepa.io import atomic_write
from hjepa.plan import RecedingHorizon, build_planner, planner_options
from hjepa.runtime import torch_threads


@dataclass
class PlannerConfig:
    kind: str = "mppi"  # gradient | cem | mppi
    horizon: int = 4
    iterations: int = 2  # the budget: optimization steps / sampling rounds per replan
    samples: int = 128  # cem, mppi
    elites: int = 16  # cem
    std: float = 0.5  # cem, mppi: sampling spread, as a fraction of the action bound
    temperature: float = 0.1  # mppi, relative to the samples' cost spread
    restarts: int = 4  # gradient
    lr: float = 0.5  # gradient, as a fraction of the action bound
    execute: int = 1  # actions executed between replans


@dataclass
class CostConfig:
    energy_weight: float = 0.0  # |s_t - g|^2 in latent space
    energy: str = "sum"  # sum over the horizon | last step
    action_weight: float = 0.0
    critic_weight: float = 1.0  # 0 = no critic (plain latent-energy planning)
    critic_mode: str = "last"  # the critic as terminal cost (cost-to-go past the horizon)
    # revisiting: w_v x the kernel count (radius in latent units) of this episode's states near
    # where a plan ends, so that the agent cannot stay stuck in a local minimum of the critic
    visit_weight: float = 0.0
    visit_radius: float = 1.0


@dataclass
class CriticConfig:
    steps: int = 6000
    batch: int = 1024
    lr: float = 0.001
    hidden: int = 128
    embed_dim: int = 64
    local_weight: float = 100.0
    cap: float = 200.0  # distances (in steps) beyond which pairs are no longer pushed apart
    # Besides the store's training episodes: fresh random walks from the simulator, encoded on
    # the fly, `walks_per_layout` of them through each layout. States of episodes with the same
    # layout (the same wall channel) are paired, so pairs meet on both sides of every wall.
    # Layouts drawn per episode need many layouts, each covered evenly: many short walks from
    # uniform starts (see configs/agent_two_rooms_random_wall.yaml).
    walks: int = 400
    walk_steps: int = 200
    walks_per_layout: int = 20
    # Learning from experience: every `memory_every` episodes (0 = never) the critic trains
    # `memory_steps` more steps on its data plus the episodes in the agent's short-term memory.
    memory_every: int = 0
    memory_steps: int = 500


@dataclass
class PolicyConfig:
    episodes: int = 200  # episodes per round whose Mode-2 decisions are distilled
    dagger_rounds: int = 4  # further rounds where the policy acts and Mode-2 labels its states
    steps: int = 5000
    hidden: int = 512
    activation: str = "relu"
    # acting noise, std before the tanh (near zero: a fraction of the action bound); without it
    # the policy got stuck in wall corners next to the door (agent/policy.py)
    noise: float = 0.3
    seed: int = 10_000  # task seed of those episodes (never the evaluation's)


@dataclass
class MemoryConfig:
    capacity: int = 100_000  # steps kept
    # Correct the world model's next-state predictions by the prediction errors of similar
    # moves earlier in the episode (agent/correction.py); radii of the state and action kernels
    # in latent units and action units
    correction: bool = False
    state_radius: float = 0.5
    action_radius: float = 0.5


@dataclass
class TaskConfig:
    env: str = ""  # "" = the world model's env
    episodes: int = 200
    max_steps: int = 200
    seed: int = 0
    # torch threads while acting (0 = torch's setting): a decision is hundreds of tiny ops that
    # a second CPU thread does not speed up, and that stall when it waits for a busy core
    threads: int = 1


@dataclass
class AgentConfig:
    mode: int = 2  # 2 = plan through the world model, 1 = reactive policy
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    critic: CriticConfig = field(default_factory=CriticConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    task: TaskConfig = field(default_factory=TaskConfig)


class Configurator:
    def __init__(self, cfg: AgentConfig, run_dir: str | Path, progress: bool = True):
        if cfg.mode not in (1, 2):
            raise ConfigError(f"mode must be 1 (reactive) or 2 (planning), got {cfg.mode}")
        planner_options(cfg.planner.kind)  # an unknown planner fails here, before any work
        self.cfg, self.run_dir, self.progress = cfg, Path(run_dir), progress
        self.world_cfg, self.world_model = load_run(self.run_dir)
        if self.world_cfg.model.kind != "world_model":
            raise ConfigError(
                f"{run_dir} holds a {self.world_cfg.model.kind} model, not a JEPA world model"
            )
        self.world_model.eval().requires_grad_(False)
        self.env_id = cfg.task.env or self.world_cfg.data.env
        task_set(self.env_id)  # no task set: fail now, before any training
        self._critic_data = None  # the critic's latent episodes, once encoded

    def make_env(self, render_mode: str | None = None):
        kwargs = self.world_cfg.data.env_kwargs
        return gymnasium.make(self.env_id, render_mode=render_mode, **kwargs)

    def tasks(self, episodes: int | None = None, seed: int | None = None) -> list[dict]:
        t = self.cfg.task
        seed = t.seed if seed is None else seed
        return goal_tasks(self.env_id, episodes or t.episodes, seed, self.world_cfg.data.env_kwargs)

    def build(self, mode: int | None = None) -> Agent:
        """The agent, in `mode` (default: the config's)."""
        mode = mode or self.cfg.mode
        m = self.cfg.memory
        memory = ShortTermMemory(m.capacity)
        cost = self.cost_module(memory)
        correction = (
            ExperienceCorrection(memory, m.state_radius, m.action_radius) if m.correction else None
        )
        env = self.make_env()
        max_norm = getattr(env.unwrapped, "max_action_norm", None)
        max_action = float(env.action_space.high.max())
        imagination = Imagination(self.world_model, cost, max_action, max_norm, correction)
        p = self.cfg.planner
        options = {k: getattr(p, k) for k in planner_options(p.kind) if hasattr(p, k)}
        planner = build_planner(p.kind, **options)
        mpc = RecedingHorizon(planner, p.execute) if mode == 2 else None
        policy = self.policy(imagination.max_action) if mode == 1 else None
        actor = Actor(imagination, mpc, policy)
        return Agent(self, self.world_model.encoder, self.world_model, cost, actor, memory)

    def cost_module(self, memory: ShortTermMemory | None = None) -> CostModule:
        c = self.cfg.cost
        critic = self.critic() if c.critic_weight > 0 else None
        return CostModule(
            c.energy_weight,
            c.energy,
            c.action_weight,
            critic,
            c.critic_weight,
            c.critic_mode,
            c.visit_weight,
            c.visit_radius,
            memory,
        )

    # -- trained parts, cached in <run>/agent/

    def critic(self) -> DistanceCritic:
        c = self.cfg.critic
        critic = DistanceCritic(self.world_model.encoder.num_features, c.hidden, c.embed_dim)
        settings = self._critic_settings()
        if not self._load("critic", critic, settings):
            self._train_critic(critic, *self.latent_episodes(), c.steps)
            self._save("critic", critic, settings)
        return critic.eval().requires_grad_(False)

    def learn_from_memory(self, agent: Agent) -> dict:
        """Train the agent's critic `critic.memory_steps` more steps on its data plus the
        agent's remembered episodes (each its own layout group); the metrics at the end.
        The cached critic on disk is left as trained from the data alone."""
        if agent.cost.critic is None:
            raise ConfigError("the agent has no critic to train (cost.critic_weight is 0)")
        if self._critic_data is None:
            self._critic_data = self.latent_episodes()
        episodes, layouts = self._critic_data
        remembered = agent.memory.episodes()
        groups = layouts + [("memory", i) for i in range(len(remembered))]
        critic, steps = agent.cost.critic.requires_grad_(True), self.cfg.critic.memory_steps
        return self._train_critic(critic, episodes + remembered, groups, steps)

    def _critic_settings(self) -> dict:
        """The settings the cached critic was trained with (learning from memory comes later)."""
        return {k: v for k, v in to_dict(self.cfg.critic).items() if not k.startswith("memory_")}

    def _train_critic(self, critic, episodes, groups, steps: int) -> dict:
        c = self.cfg.critic
        return train_critic(
            critic,
            episodes,
            groups,
            steps,
            c.batch,
            c.lr,
            c.cap,
            c.local_weight,
            seed=self.world_cfg.train.seed,
            progress=self.progress,
        )

    def policy(self, max_action: float) -> ReactivePolicy:
        p = self.cfg.policy
        policy = ReactivePolicy(
            self.world_model.encoder.num_features,
            self.world_model.action_dim,
            max_action,
            p.hidden,
            p.activation,
            p.noise,
            p.seed,
        )
        settings = {  # what the distilled policy depends on (its acting noise is not)
            "policy": {k: v for k, v in to_dict(p).items() if k != "noise"},
            "planner": to_dict(self.cfg.planner),
            "cost": to_dict(self.cfg.cost),
            "critic": self._critic_settings(),
            "memory": to_dict(self.cfg.memory),
        }
        if not self._load("policy", policy, settings):
            teacher, env = self.build(mode=2), self.make_env()
            for round in range(p.dagger_rounds + 1):
                # round 0: Mode-2 acts; later rounds (DAgger): the policy acts, Mode-2 labels
                teacher.actor.student = policy if round else None
                seed = p.seed + round * p.episodes
                tasks = self.tasks(p.episodes, seed)
                desc = f"mode-1 distillation, round {round}"
                with torch_threads(self.cfg.task.threads):
                    for i, options in enumerate(tqdm(tasks, desc, disable=not self.progress)):
                        run_episode(teacher, env, seed + i, options, self.cfg.task.max_steps)
                distill(policy, teacher.memory.decisions(), p.steps, progress=self.progress)
            self._save("policy", policy, settings)
        return policy.eval().requires_grad_(False)

    @torch.no_grad()
    def latent_episodes(self) -> tuple[list[torch.Tensor], list[bytes]]:
        """Latent trajectories [T, D] and their layouts (`layout_key`): the store's training
        episodes (never the held-out ones), then fresh random walks."""
        store = trajectory_store(self.world_cfg)
        train, _ = split_episodes(
            len(store), self.world_cfg.data.held_out, self.world_cfg.train.seed
        )
        episodes, layouts = [], []
        for ep in tqdm(train, desc="encoding episodes", disable=not self.progress, leave=False):
            obs = store.episode(ep)["obs"]
            episodes.append(self.world_model.encode(torch.from_numpy(obs)))
            layouts.append(layout_key(obs))
        c = self.cfg.critic
        walks, walk_layouts = self.random_walks(c.walks, c.walk_steps, c.walks_per_layout)
        return episodes + walks, layouts + walk_layouts

    @torch.no_grad()
    def random_walks(self, walks: int, steps: int, per_layout: int):
        """Latents [steps + 1, D] of `walks` episodes of the store's policy in the simulator,
        `per_layout` at a time through one layout (where the env can share one; each time one
        not walked yet, while such layouts are easily drawn), and the layout key of each.
        None (empty lists) for `walks` <= 0 or an env without an hjepa simulator (a Gymnasium
        env such as hjepa/PendulumGoal-v0)."""
        if walks <= 0 or self.env_id not in SIM_REGISTRY:
            return [], []
        d = self.world_cfg.data
        rng = np.random.default_rng([self.world_cfg.train.seed, 1])
        policy = load_policy(d.policy, self.world_model.action_dim)
        episodes, layouts, walked = [], [], set()
        starts = range(0, walks, per_layout)
        for start in tqdm(starts, desc="random walks", disable=not self.progress, leave=False):
            sim = make_sim(self.env_id, min(per_layout, walks - start), **d.env_kwargs)
            sim.rng = rng
            shared = _unwalked_layout(sim, walked)
            obs = run_episodes(sim, policy, rng, steps, options=shared)["obs"]
            episodes.extend(self.world_model.encode(torch.from_numpy(obs)).unbind(0))
            layouts.extend(layout_key(walk) for walk in obs)
        return episodes, layouts

    def _path(self, name: str) -> Path:
        return self.run_dir / "agent" / f"{name}.pt"

    def _load(self, name: str, module: torch.nn.Module, settings: dict) -> bool:
        path = self._path(name)
        if not path.is_file():
            return False
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:
            raise CheckpointError(f"cannot read {path}: {err}") from None
        if saved.get("settings") != settings:
            return False
        module.load_state_dict(saved["state_dict"])
        return True

    def _save(self, name: str, module: torch.nn.Module, settings: dict) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        saved = {"settings": settings, "state_dict": module.state_dict()}
        atomic_write(path, lambda tmp: torch.save(saved, tmp))


def _unwalked_layout(sim, walked: set, tries: int = 200) -> dict | None:
    """A layout for all of `sim`'s envs (`sim.shared_layout()`), redrawn up to `tries` times
    until it is not in `walked`, so that layouts are covered evenly; recorded in `walked`."""
    for _ in range(tries):
        shared = sim.shared_layout()
        if shared is None:
            return None
        key = tuple(sorted(shared.items()))
        if key not in walked:
            break
    walked.add(key)
    return shared
