"""The agent in closed loop on Two-Rooms: it reaches goals in the other room, where a random
policy on the same tasks mostly does not.

The perception reads the agent's position off the frame and the world model moves it by the
action, ignoring the wall; everything else is the agent's own: the critic learned from random
walks (store-like data, one layout), MPPI with the critic as cost-to-go, the revisiting cost,
and the memory correction that learns from experience where the wall stops a move.
"""

import gymnasium
import numpy as np
import torch
from torch import nn

from hjepa.agent.agent import Actor, Agent, run_episode
from hjepa.agent.correction import ExperienceCorrection
from hjepa.agent.cost import CostModule, Imagination
from hjepa.agent.critic import DistanceCritic, train_critic
from hjepa.agent.memory import ShortTermMemory
from hjepa.envs import make_sim
from hjepa.envs.collect import run_episodes
from hjepa.envs.policies import load_policy
from hjepa.envs.tasks import goal_tasks
from hjepa.plan import RecedingHorizon, build_planner
from hjepa.runtime import torch_threads

ENV = "hjepa/TwoRooms-v0"
PX_PER_UNIT = 8.0  # latent units: the agent's position in 8-px units
TASKS, MAX_STEPS = 8, 200  # the task set's budget


class DotPosition(nn.Module):
    """Perception: the agent's (x, y) in latent units, the centroid of the agent channel."""

    in_chans, img_size, num_features = 2, 64, 2

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        weights = obs[:, 0].float()
        centres = torch.arange(self.img_size, dtype=torch.float32) + 0.5
        total = weights.sum((-1, -2))
        x = (weights.sum(-2) * centres).sum(-1) / total
        y = (weights.sum(-1) * centres).sum(-1) / total
        return torch.stack([x, y], -1) / PX_PER_UNIT


class WallBlindModel:
    """A world model that moves the agent by the action and knows no walls."""

    action_dim = 2

    def __init__(self):
        self.encoder = DotPosition()

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return self.encoder(obs.reshape(-1, *obs.shape[-3:])).reshape(*obs.shape[:-3], 2)

    def rollout(self, s0: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        return s0[:, None] + actions.cumsum(1) / PX_PER_UNIT


def trained_critic(world_model: WallBlindModel) -> DistanceCritic:
    """The critic, from 200 random walks of 90 steps (one layout: one group)."""
    rng = np.random.default_rng(0)
    walks = run_episodes(make_sim(ENV, 200), load_policy("random_walk"), rng, 90)
    episodes = list(world_model.encode(torch.from_numpy(walks["obs"])).unbind(0))
    critic = DistanceCritic(2, hidden=64, embed_dim=16)
    groups = [0] * len(episodes)
    train_critic(critic, episodes, groups, 1000, 512, 1e-2, cap=200.0, progress=False)
    return critic


def planning_agent(world_model, critic, env) -> Agent:
    memory = ShortTermMemory()
    cost = CostModule(critic=critic, visit_weight=0.3, visit_radius=1.0, memory=memory)
    correction = ExperienceCorrection(memory, state_radius=0.5, action_radius=0.5)
    max_norm = env.unwrapped.max_action_norm
    max_action = float(env.action_space.high.max())
    imagination = Imagination(world_model, cost, max_action, max_norm, correction)
    planner = build_planner("mppi", horizon=4, iterations=2, samples=128)
    actor = Actor(imagination, RecedingHorizon(planner))
    return Agent(None, world_model.encoder, world_model, cost, actor, memory)


def random_policy_successes(env, tasks) -> int:
    successes = 0
    for i, options in enumerate(tasks):
        env.reset(seed=i, options=options)
        env.action_space.seed(i)
        for _ in range(MAX_STEPS):
            *_, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                break
        successes += terminated
    return successes


def test_the_agent_reaches_goals_in_the_other_room():
    torch.manual_seed(0)
    env = gymnasium.make(ENV)
    world_model = WallBlindModel()
    tasks = goal_tasks(ENV, TASKS, seed=0)
    with torch_threads(1):  # as the agent acts (task.threads): hundreds of tiny ops
        agent = planning_agent(world_model, trained_critic(world_model), env)
        results = [run_episode(agent, env, i, task, MAX_STEPS) for i, task in enumerate(tasks)]
    reached = sum(r.success for r in results)
    assert reached >= 6, [r.final_distance for r in results]  # 7 of 8 when written
    assert random_policy_successes(env, tasks) <= 1  # 0 of 8 when written
