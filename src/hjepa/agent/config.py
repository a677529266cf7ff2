"""The agent's task spec: the dataclasses behind `configs/agent_*.yaml`.

cfg = load_config("configs/agent_two_rooms.yaml", ["planner.kind=cem"], root=AgentConfig)
"""

from dataclasses import dataclass, field

from hjepa.config_schema import limited, one_of


@dataclass
class PlannerConfig:
    kind: str = "mppi"  # gradient | cem | mppi
    horizon: int = limited(4, 1)
    iterations: int = limited(2, 1)  # the budget: optimization steps / sampling rounds per replan
    samples: int = limited(128, 1)  # cem, mppi
    elites: int = limited(16, 1)  # cem
    std: float = limited(0.5, above=0.0)  # cem, mppi: sampling spread, a fraction of the bound
    temperature: float = limited(0.1, above=0.0)  # mppi, relative to the samples' cost spread
    restarts: int = limited(4, 1)  # gradient
    lr: float = limited(0.5, above=0.0)  # gradient, as a fraction of the action bound
    execute: int = limited(1, 1)  # actions executed between replans


@dataclass
class CostConfig:
    energy_weight: float = limited(0.0, 0.0)  # |s_t - g|^2 in latent space
    energy: str = one_of("sum", "last")  # sum over the horizon | last step
    action_weight: float = limited(0.0, 0.0)
    critic_weight: float = limited(1.0, 0.0)  # 0 = no critic (plain latent-energy planning)
    # last: the critic as terminal cost (cost-to-go past the horizon) | sum over the horizon
    critic_mode: str = one_of("last", "sum")
    # revisiting: w_v x the kernel count (radius in latent units) of this episode's states near
    # where a plan ends, so that the agent cannot stay stuck in a local minimum of the critic
    visit_weight: float = limited(0.0, 0.0)
    visit_radius: float = limited(1.0, above=0.0)


@dataclass
class CriticConfig:
    steps: int = limited(6000, 1)
    batch: int = limited(1024, 1)
    lr: float = limited(0.001, above=0.0)
    hidden: int = limited(128, 1)
    embed_dim: int = limited(64, 1)
    local_weight: float = limited(100.0, 0.0)
    cap: float = limited(200.0, above=0.0)  # distances (in steps) beyond which pairs no longer push
    # share of the pushed-apart pairs drawn within one episode (finer short-range distances)
    same_episode: float = limited(0.0, 0.0, below=1.0)
    # Stitched targets (agent/stitch.py): with `graph_sources` > 0 the critic regresses on
    # shortest paths through a graph of its episodes, from that many sampled sources, instead
    # of the one-step hinge and push-apart. Nodes: every `graph_stride`-th latent; links: the
    # `graph_neighbours` nearest nodes of one layout within `graph_radius` recorded node steps.
    graph_sources: int = limited(0, 0)
    graph_stride: int = limited(2, 1)
    graph_neighbours: int = limited(10, 1)
    graph_radius: float = limited(2.0, above=0.0)
    # half its training states are latents the world model predicted from 1 to `graph_rollout`
    # recorded steps earlier (0: none), labelled as what really followed: planners show it those
    graph_rollout: int = limited(4, 0)
    # weight of slope matching: each state's change in distance to its episode's next node
    # against the stitched change (0: values only); without it, smooth fits left local minima
    # against the walls beside doors
    graph_slope: float = limited(1.0, 0.0)
    # seed of the critic's initial weights, training pairs and graph sources (-1: the world
    # model run's train.seed)
    seed: int = limited(-1, -1)
    # The critic learns from the store's training episodes. Optionally also from `walks` fresh
    # random walks from the simulator (extra environment interaction, which the world model's
    # data does not include), encoded on the fly, `walks_per_layout` of them through each
    # layout. Episodes with equal layout values (the env's `layout_names` state columns) are
    # paired, so pairs meet on both sides of every wall.
    walks: int = limited(0, 0)
    walk_steps: int = limited(200, 1)
    walks_per_layout: int = limited(20, 1)
    # Learning from experience: every `memory_every` episodes (0 = never) the critic trains
    # `memory_steps` more steps on its data plus the episodes in the agent's short-term memory
    # (with the one-step hinge and push-apart, also for a critic first fit to stitched steps).
    memory_every: int = limited(0, 0)
    memory_steps: int = limited(500, 1)


@dataclass
class PolicyConfig:
    episodes: int = limited(200, 1)  # episodes per round whose Mode-2 decisions are distilled
    dagger_rounds: int = limited(4, 0)  # further rounds: the policy acts, Mode-2 labels its states
    steps: int = limited(5000, 1)
    hidden: int = limited(512, 1)
    activation: str = "relu"
    # acting noise, std before the tanh (near zero: a fraction of the action bound); without it
    # the policy got stuck in wall corners next to the door (agent/policy.py)
    noise: float = limited(0.3, 0.0)
    seed: int = 10_000  # task seed of those episodes (never the evaluation's)


@dataclass
class MemoryConfig:
    capacity: int = limited(100_000, 1)  # steps kept
    # Correct the world model's next-state predictions by the prediction errors of similar
    # moves earlier in the episode (agent/correction.py); radii of the state and action kernels
    # in latent units and action units
    correction: bool = False
    state_radius: float = limited(0.5, above=0.0)
    action_radius: float = limited(0.5, above=0.0)


@dataclass
class TaskConfig:
    env: str = ""  # "" = the world model's env
    # over the world model's data.env_kwargs, for the env and its task set (e.g. Push-T's gaps)
    env_kwargs: dict = field(default_factory=dict)
    episodes: int = limited(200, 1)
    max_steps: int = limited(200, 1)
    seed: int = 0
    # torch threads while acting (0 = torch's setting): a decision is hundreds of tiny ops that
    # a second CPU thread does not speed up, and that stall when it waits for a busy core
    threads: int = limited(1, 0)


@dataclass
class LevelPlanConfig:
    """How one H-JEPA level above the world model plans (`agent/hierarchy.py`); levels are
    listed bottom first (level 2, then 3, ...), the last one plans toward the goal."""

    planner: PlannerConfig = field(default_factory=lambda: PlannerConfig(kind="cem", horizon=3))
    every: int = limited(8, 1)  # env steps between this level's replans (its clock)
    energy: str = one_of("sum", "last")  # this level's cost to its target: summed | last step
    # How distances to a target in this level's space are measured, by the level below (toward
    # this level's subgoal) and, at the top, by this level (toward the goal): w_e x squared
    # latent distance + w_c x a learned distance on this level's states (a critic trained like
    # the flat one, `critic.*`, on the store's episodes encoded up to this level; 0 = none)
    energy_weight: float = limited(1.0, 0.0)
    critic_weight: float = limited(0.0, 0.0)
    # hand down the store's level-k state nearest to the planned subgoal (every
    # `critic.graph_stride`-th stored state): a state that exists, where a macro-action's
    # prediction can lie off the data (inside a wall) and the level below then chases it
    snap: bool = False


@dataclass
class AgentConfig:
    mode: int = 2  # 2 = plan through the world model, 1 = reactive policy
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    critic: CriticConfig = field(default_factory=CriticConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    # H-JEPA: the levels above the world model that plan (needs a hierarchy run, model.kind
    # hierarchy); empty = flat planning. With levels, level 1 plans toward level 2's subgoal
    # with `planner` and `cost.energy`, instead of the flat cost's terms.
    levels: list[LevelPlanConfig] = field(default_factory=list)
