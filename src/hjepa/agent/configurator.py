"""The configurator: turns a task spec (YAML, `agent/config.py`) into configured modules, i.e. a
ready agent.

    cfg = load_config("configs/agent_two_rooms.yaml", ["planner.kind=cem"], root=AgentConfig)
    agent = Configurator(cfg, "runs/two_rooms").build()

It loads the world model (perception and prediction) from its run folder, and assembles the
cost module with its critic, the actor (the planner inside a receding-horizon loop, or for
Mode-1 the reactive policy distilled from Mode-2) and the short-term memory. What is learned
and from which data is `agent/learning.py`; trained parts are cached in `<run>/agent/`
(`agent/cache.py`).
"""

from pathlib import Path

import gymnasium
import torch
from torch import nn

from hjepa.agent import learning
from hjepa.agent.agent import Actor, Agent
from hjepa.agent.cache import AgentCache
from hjepa.agent.config import AgentConfig
from hjepa.agent.correction import ExperienceCorrection
from hjepa.agent.cost import CostModule, Imagination
from hjepa.agent.critic import DistanceCritic
from hjepa.agent.hierarchy import HierarchicalActor, MacroModel, TargetCost, UpperLevel
from hjepa.agent.memory import ShortTermMemory
from hjepa.agent.policy import ReactivePolicy
from hjepa.envs.tasks import goal_tasks, task_set
from hjepa.errors import ConfigError
from hjepa.experiment import open_run
from hjepa.plan import RecedingHorizon, build_planner, planner_options


class Configurator:
    def __init__(self, cfg: AgentConfig, run_dir: str | Path, progress: bool = True):
        if cfg.mode not in (1, 2):
            raise ConfigError(f"mode must be 1 (reactive) or 2 (planning), got {cfg.mode}")
        _check_planner(cfg.planner)  # fails here, before any work
        self.cfg, self.run_dir, self.progress = cfg, Path(run_dir), progress
        self.run = open_run(self.run_dir)  # config, model, store and its episode split
        self.hierarchy, self.world_cfg, self.world_model = _levels(self.run, cfg)
        self.world_model.eval().requires_grad_(False)
        self.env_id = cfg.task.env or self.world_cfg.data.env
        task_set(self.env_id)  # no task set: fail now, before any training
        self._cache = AgentCache(self.run_dir)
        self._critic_data = None  # the critic's latent episodes, once encoded
        self._stitched = None  # their stitched distances, once built

    @property
    def env_kwargs(self) -> dict:
        """The world model's env kwargs with the task's overrides."""
        return {**self.world_cfg.data.env_kwargs, **self.cfg.task.env_kwargs}

    def make_env(self, render_mode: str | None = None):
        return gymnasium.make(self.env_id, render_mode=render_mode, **self.env_kwargs)

    def tasks(self, episodes: int | None = None, seed: int | None = None) -> list[dict]:
        t = self.cfg.task
        seed = t.seed if seed is None else seed
        return goal_tasks(self.env_id, episodes or t.episodes, seed, self.env_kwargs)

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
        hierarchical = mode == 2 and bool(self.cfg.levels)
        planning_cost = self.level_cost(1) if hierarchical else cost
        imagination = Imagination(self.world_model, planning_cost, max_action, max_norm, correction)
        mpc = RecedingHorizon(_planner(self.cfg.planner), self.cfg.planner.execute)
        if mode == 1:
            actor = Actor(imagination, None, self.policy(imagination.max_action))
        elif hierarchical:
            actor = HierarchicalActor(self.hierarchy, imagination, mpc, self.upper_levels())
        else:
            actor = Actor(imagination, mpc)
        return Agent(self, self.world_model.encoder, self.world_model, cost, actor, memory)

    def upper_levels(self) -> list[UpperLevel]:
        """Levels 2..K of the hierarchical actor, each with its planner, cost and clock."""
        uppers = []
        for k, level_cfg in enumerate(self.cfg.levels, start=2):
            model = MacroModel(self.hierarchy.level(k))
            imagination = Imagination(model, self.level_cost(k), max_action=1.0)
            mpc = RecedingHorizon(_planner(level_cfg.planner), 1)
            landmarks = self.stored_states(k) if level_cfg.snap else None
            uppers.append(UpperLevel(k, mpc, imagination, level_cfg.every, landmarks))
        return uppers

    def level_cost(self, k: int) -> TargetCost:
        """Level k's planning cost: its predicted states reach the subgoal of level k + 1 (in
        that level's space), or, at the top, the goal; distances as the target's level says."""
        top = len(self.cfg.levels) + 1
        there = min(k + 1, top)  # the level whose space the target lives in
        lift = self.hierarchy.level(k + 1).encoder if k < top else nn.Identity()
        mode = self.cfg.cost.energy if k == 1 else self.cfg.levels[k - 2].energy
        measure = self.cfg.levels[there - 2]
        critic = self.level_critic(there) if measure.critic_weight > 0 else None
        return TargetCost(lift, mode, measure.energy_weight, critic, measure.critic_weight)

    def level_critic(self, k: int) -> DistanceCritic:
        """A learned distance on level-k states: the critic's data encoded up to level k."""
        c = self.cfg.critic
        seed = self.critic_seed
        critic = DistanceCritic(self.hierarchy.level(k).dim, c.hidden, c.embed_dim, seed=seed)
        settings = {**learning.critic_settings(self.cfg), "level": k}
        if not self._cache.load(f"critic_level{k}", critic, settings):

            def lift(x):
                return self.hierarchy.lift(x, 1, k)

            data = self.critic_data()
            with torch.no_grad():
                lifted = learning.CriticData([lift(e) for e in data.episodes], data.groups)
            stitched = self.stitched()
            if stitched is not None:
                stitched = stitched.lifted(lift)
            learning.fit_critic(self, critic, lifted, c.steps, stitched)
            self._cache.save(f"critic_level{k}", critic, settings)
        return critic.eval().requires_grad_(False)

    @property
    def critic_seed(self) -> int:
        """`critic.seed`, or the world model run's train seed where it is -1."""
        return self.cfg.critic.seed if self.cfg.critic.seed >= 0 else self.world_cfg.train.seed

    @torch.no_grad()
    def stored_states(self, k: int) -> torch.Tensor:
        """Every `critic.graph_stride`-th latent of the critic's episodes, lifted to level k."""
        stride = self.cfg.critic.graph_stride
        states = torch.cat([e[::stride] for e in self.critic_data().episodes])
        return self.hierarchy.lift(states, 1, k)

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

    def critic(self) -> DistanceCritic:
        """The critic trained on `critic_data()` (or reloaded, if trained with these settings)."""
        c = self.cfg.critic
        seed = self.critic_seed
        critic = DistanceCritic(
            self.world_model.encoder.num_features, c.hidden, c.embed_dim, seed=seed
        )
        settings = learning.critic_settings(self.cfg)
        if not self._cache.load("critic", critic, settings):
            learning.fit_critic(self, critic, self.critic_data(), c.steps, self.stitched())
            self._cache.save("critic", critic, settings)
        return critic.eval().requires_grad_(False)

    def critic_data(self) -> learning.CriticData:
        """The critic's latent episodes and layout groups (`learning.critic_data`), encoded once."""
        if self._critic_data is None:
            self._critic_data = learning.critic_data(self)
        return self._critic_data

    def stitched(self):
        """The critic data's stitched distances (`learning.stitch_critic_data`), built once;
        None unless `critic.graph_sources` > 0."""
        if self._stitched is None and self.cfg.critic.graph_sources > 0:
            self._stitched = learning.stitch_critic_data(self, self.critic_data())
        return self._stitched

    def learn_from_memory(self, agent: Agent) -> dict:
        """Train the agent's critic `critic.memory_steps` more steps on its data plus the
        agent's remembered episodes; the metrics at the end. The cached critic on disk is left
        as trained from the data alone."""
        if agent.cost.critic is None:
            raise ConfigError("the agent has no critic to train (cost.critic_weight is 0)")
        return learning.learn_from_memory(self, agent.cost.critic, self.critic_data(), agent.memory)

    def policy(self, max_action: float) -> ReactivePolicy:
        """The Mode-1 policy distilled from Mode-2 (or reloaded, if distilled with these
        settings)."""
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
        settings = learning.policy_settings(self.cfg)
        if not self._cache.load("policy", policy, settings):
            learning.distill_mode2(self, policy)
            self._cache.save("policy", policy, settings)
        return policy.eval().requires_grad_(False)


def _check_planner(p) -> None:
    """ConfigError for an unknown planner, bad planner options, or a planner that would
    execute more actions than it plans."""
    _planner(p)
    if p.execute > p.horizon:
        raise ConfigError(
            f"planner.execute={p.execute} is more than planner.horizon={p.horizon}: a plan "
            "executes at most the actions it holds"
        )


def _planner(p):
    """The planner a `PlannerConfig` names, with the options it takes."""
    options = {k: getattr(p, k) for k in planner_options(p.kind) if hasattr(p, k)}
    return build_planner(p.kind, **options)


def _levels(run, cfg: AgentConfig):
    """(hierarchy or None, the world model's config, the world model) of a world-model or
    hierarchy run; ConfigError when the agent names more levels than the run has."""
    kind = run.cfg.model.kind
    if kind not in ("world_model", "hierarchy"):
        raise ConfigError(f"{run.path} holds a {kind} model, not a JEPA world model")
    hierarchy = run.model if kind == "hierarchy" else None
    depth = 1 if hierarchy is None else hierarchy.depth
    if len(cfg.levels) + 1 > depth:
        raise ConfigError(
            f"the agent config plans with {len(cfg.levels) + 1} levels, but {run.path} has "
            f"{depth} (a {kind} run): train a hierarchy (model.kind=hierarchy) on it, or drop "
            "`levels` from the agent config"
        )
    if hierarchy is None:
        return None, run.cfg, run.model
    return hierarchy, run.base.cfg, hierarchy.base
