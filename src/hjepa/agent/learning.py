"""What the agent learns, and from which data.

- The critic: from the latent episodes of the world model's trajectory store (its training
  episodes, never the held-out ones) and, when `critic.walks` > 0, from fresh random walks of the
  store's policy in the simulator (extra environment interaction, off by default). Episodes that
  share a layout form one group, within which the critic pushes states apart (agent/critic.py),
  or, with `critic.graph_sources` > 0, within which the episodes are stitched into a graph whose
  shortest paths the critic regresses on (agent/stitch.py).
- Learning from memory: more critic steps on that data plus the agent's remembered episodes.
- Mode-1 distillation: the reactive policy imitates Mode-2's decisions, over DAgger rounds.

The functions take the `Configurator` (agent/configurator.py): its world model, run, env and
config are what they learn with.
"""

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from hjepa.agent.agent import run_episode
from hjepa.agent.critic import DistanceCritic, train_critic, train_critic_stitched
from hjepa.agent.memory import ShortTermMemory
from hjepa.agent.policy import ReactivePolicy, distill
from hjepa.agent.stitch import StitchedDistances, stitch
from hjepa.config import to_dict
from hjepa.envs import SIM_REGISTRY, make_sim
from hjepa.envs.collect import run_episodes
from hjepa.envs.goal import env_facts
from hjepa.envs.policies import load_policy
from hjepa.errors import ConfigError
from hjepa.runtime import torch_threads

# How the critic's episodes are grouped for its push-apart pairs (`layout_groups`); part of the
# cached critic's settings, so that critics grouped by an earlier rule are trained again.
PAIRING = "episodes of one layout; one layout where the env names no layout columns"


@dataclass
class CriticData:
    episodes: list[torch.Tensor]  # latent trajectories [T_i, D]
    groups: list  # each episode's layout group (hashable)
    predicted: list[torch.Tensor] | None = None  # the store's latents as the world model
    # predicts them (`predicted_latents`; random walks as encoded), where the critic is
    # stitched with `graph_rollout` > 0


# -- the critic's data


def layout_columns(state_names, layout_names, source: str) -> list[int]:
    """Indices of the `layout_names` columns in `state_names` (of `source`, for the error)."""
    missing = [name for name in layout_names if name not in state_names]
    if missing:
        raise ConfigError(
            f"{source} has no state columns {missing} (it has {list(state_names)}), but the env "
            f"names them as its layout: collect the data again with this env"
        )
    return [list(state_names).index(name) for name in layout_names]


def layout_groups(states: list[np.ndarray], columns: list[int], names, source: str) -> list:
    """The critic's group of each episode (states [T, S]): its values in the layout `columns`
    (`names`), equal for episodes of the same layout. With no layout columns every episode runs
    in the env's one layout: a single group. ConfigError (naming `source`) where a layout
    column changes within an episode, as pairs across layouts would then be mixed."""
    groups = []
    for i, episode in enumerate(states):
        layout = np.asarray(episode[:, columns], np.float64)
        varying = [n for n, col in zip(names, layout.T, strict=True) if (col != col[0]).any()]
        if varying:
            raise ConfigError(
                f"{source}: the layout columns {varying} change within episode {i}; an env's "
                f"layout_names must name state columns fixed within an episode"
            )
        groups.append(("layout", *layout[0].tolist()))
    return groups


def training_episodes(configurator) -> tuple[object, list[int]]:
    """The store and its training episodes (the world model's split, no held-out episode)."""
    return configurator.run.store, configurator.run.train_episodes


@torch.no_grad()
def critic_data(configurator) -> CriticData:
    """The critic's latent episodes and groups: the store's training episodes, then the random
    walks (none unless `critic.walks` > 0)."""
    layout_names = env_facts(configurator.make_env()).layout_names
    store, train = training_episodes(configurator)
    columns = layout_columns(store.state_names, layout_names, f"the trajectory store {store.path}")
    episodes, states, predicted = [], [], []
    rollout, wm = configurator.cfg.critic.graph_rollout, configurator.world_model
    generator = torch.Generator().manual_seed(configurator.world_cfg.train.seed)
    progress = configurator.progress
    for ep in tqdm(train, desc="encoding episodes", disable=not progress, leave=False):
        frames = store.episode(ep)
        episodes.append(wm.encode(torch.from_numpy(frames["obs"])))
        states.append(frames["states"])
        if configurator.cfg.critic.graph_sources and rollout:
            actions = torch.as_tensor(np.asarray(frames["actions"]), dtype=torch.float32)
            predicted.append(predicted_latents(wm, episodes[-1], actions, rollout, generator))
    walks = random_walks(configurator, layout_names)
    groups = layout_groups(states, columns, layout_names, f"the trajectory store {store.path}")
    predicted = (predicted + walks.episodes) if predicted else None
    return CriticData(episodes + walks.episodes, groups + walks.groups, predicted)


@torch.no_grad()
def predicted_latents(world_model, latents, actions, horizon: int, generator) -> torch.Tensor:
    """Each latent of an episode [T, D] as `world_model` predicts it from h recorded steps
    earlier (h uniform in 1..`horizon`, at most its index; the first latent as it is), with the
    episode's actions [>= T - 1, A]: the kind of state a planner's imagination shows."""
    out = latents.clone()
    h = torch.randint(1, horizon + 1, (len(latents),), generator=generator)
    h = torch.minimum(h, torch.arange(len(latents)))
    for k in range(1, horizon + 1):
        t = torch.nonzero(h == k).squeeze(1)
        if len(t):
            windows = torch.stack([actions[i - k : i] for i in t.tolist()])
            out[t] = world_model.rollout(latents[t - k], windows)[:, -1]
    return out


def walk_count(configurator) -> int:
    """Random walks the critic learns from: `critic.walks`, where the env has a simulator."""
    return max(configurator.cfg.critic.walks, 0) if configurator.env_id in SIM_REGISTRY else 0


@torch.no_grad()
def random_walks(configurator, layout_names) -> CriticData:
    """Latents [walk_steps + 1, D] of `walk_count` episodes of the store's policy in the
    simulator, `walks_per_layout` at a time through one layout (where the env can share one;
    each time one not walked yet, while such layouts are easily drawn), grouped by layout."""
    walks, c = walk_count(configurator), configurator.cfg.critic
    if walks == 0:
        return CriticData([], [])
    d, seed = configurator.world_cfg.data, configurator.world_cfg.train.seed
    rng = np.random.default_rng([seed, 1])
    policy = load_policy(d.policy, configurator.world_model.action_dim)
    episodes, states, walked, columns = [], [], set(), []
    starts = range(0, walks, c.walks_per_layout)
    for start in tqdm(starts, desc="random walks", disable=not configurator.progress, leave=False):
        sim = make_sim(configurator.env_id, min(c.walks_per_layout, walks - start), **d.env_kwargs)
        sim.rng = rng
        columns = layout_columns(sim.state_names, layout_names, f"the {configurator.env_id} sim")
        out = run_episodes(sim, policy, rng, c.walk_steps, options=_unwalked_layout(sim, walked))
        episodes.extend(configurator.world_model.encode(torch.from_numpy(out["obs"])).unbind(0))
        states.extend(out["states"])
    source = f"the {configurator.env_id} sim"
    return CriticData(episodes, layout_groups(states, columns, layout_names, source))


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


def describe_critic_data(configurator) -> str:
    """Which data the critic learns from, for reports: the store's training episodes (and
    frames), the random walks if any (extra environment interaction), learning from memory."""
    c = configurator.cfg.critic
    if configurator.cfg.cost.critic_weight <= 0:
        return "no critic (cost.critic_weight is 0)"
    store, train = training_episodes(configurator)
    frames = int(store.episode_lengths[train].sum())
    text = f"{len(train)} training episodes of the store ({frames} frames)"
    walks = walk_count(configurator)
    if walks:
        text += (
            f" plus {walks} random walks of {c.walk_steps} steps from the simulator "
            f"(extra environment interaction)"
        )
    else:
        text += "; no extra environment interaction"
    if c.memory_every > 0:
        text += (
            f"; every {c.memory_every} evaluation episodes, {c.memory_steps} more steps with "
            f"the agent's remembered episodes"
        )
    return text


# -- the critic


def critic_settings(cfg) -> dict:
    """What the trained critic depends on (learning from memory comes later, not cached), and
    `PAIRING`, the rule that groups its episodes."""
    critic = {k: v for k, v in to_dict(cfg.critic).items() if not k.startswith("memory_")}
    return {**critic, "pairing": PAIRING}


def fit_critic(
    configurator,
    critic: DistanceCritic,
    data: CriticData,
    steps: int,
    stitched: StitchedDistances | None = None,
) -> dict:
    """Train `critic` for `steps` steps: on `stitched` distances where given, else on `data`
    (one-step hinge and push-apart); the final metrics."""
    c, seed = configurator.cfg.critic, configurator.critic_seed
    progress = configurator.progress
    if stitched is not None:
        return train_critic_stitched(
            critic, stitched, steps, c.batch, c.lr, seed, progress, c.graph_slope
        )
    return train_critic(
        critic,
        data.episodes,
        data.groups,
        steps,
        c.batch,
        c.lr,
        c.cap,
        c.local_weight,
        seed=seed,
        progress=progress,
        same_episode=c.same_episode,
    )


def stitch_critic_data(configurator, data: CriticData) -> StitchedDistances | None:
    """`data`'s stitched distances (`agent.stitch`), where `critic.graph_sources` > 0."""
    c = configurator.cfg.critic
    if c.graph_sources == 0:
        return None
    return stitch(
        data.episodes,
        data.groups,
        c.graph_stride,
        c.graph_neighbours,
        c.graph_radius,
        c.graph_sources,
        c.cap,
        seed=configurator.critic_seed,
        predicted=data.predicted,
    )


def learn_from_memory(
    configurator, critic: DistanceCritic, data: CriticData, memory: ShortTermMemory
) -> dict:
    """Train `critic` `critic.memory_steps` more steps on `data` plus the episodes in `memory`
    (each its own group); the metrics at the end."""
    remembered = memory.episodes()
    groups = data.groups + [("memory", i) for i in range(len(remembered))]
    more = CriticData(data.episodes + remembered, groups)
    steps = configurator.cfg.critic.memory_steps
    return fit_critic(configurator, critic.requires_grad_(True), more, steps)


# -- Mode-1 distillation


def policy_settings(cfg) -> dict:
    """What the distilled policy depends on (its acting noise is not)."""
    return {
        "policy": {k: v for k, v in to_dict(cfg.policy).items() if k != "noise"},
        "planner": to_dict(cfg.planner),
        "cost": to_dict(cfg.cost),
        "critic": critic_settings(cfg),
        "memory": to_dict(cfg.memory),
        "levels": to_dict(cfg)["levels"],
    }


def distill_mode2(configurator, policy: ReactivePolicy) -> None:
    """Distil Mode-2 into `policy`: round 0, Mode-2 acts; in each later DAgger round the policy
    acts and Mode-2 labels the states it reaches; after each round the policy imitates each
    decision remembered so far (`policy.episodes` episodes a round, on the policy's own seeds)."""
    cfg = configurator.cfg
    p, t = cfg.policy, cfg.task
    teacher, env = configurator.build(mode=2), configurator.make_env()
    for round in range(p.dagger_rounds + 1):
        teacher.actor.student = policy if round else None
        seed = p.seed + round * p.episodes
        tasks = configurator.tasks(p.episodes, seed)
        desc = f"mode-1 distillation, round {round}"
        with torch_threads(t.threads):
            for i, options in enumerate(tqdm(tasks, desc, disable=not configurator.progress)):
                run_episode(teacher, env, seed + i, options, t.max_steps)
        distill(policy, teacher.memory.decisions(), p.steps, progress=configurator.progress)
