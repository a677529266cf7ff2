"""H-JEPA: macro-actions, stacked levels, their training, and the hierarchical actor."""

import csv

import numpy as np
import pytest
import torch

from hjepa.agent.agent import Actor
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.agent.hierarchy import HierarchicalActor
from hjepa.config import load_config
from hjepa.demo import SMOKE_AGENT, SMOKE_WORLD
from hjepa.envs import make_sim
from hjepa.envs.arena import GOAL_RADIUS
from hjepa.errors import ConfigError, ShapeError
from hjepa.eval.batched import run_batched
from hjepa.eval.hierarchy import horizon_errors
from hjepa.experiment import open_run
from hjepa.hierarchy.data import LatentSequences
from hjepa.hierarchy.macro import MacroActionEncoder
from hjepa.plan import CEMPlanner, RecedingHorizon
from hjepa.train.trainer import train

LEVELS = "[{dim: 8, gap: [2, 4], hidden: 32}, {dim: 8, gap: [6, 12], hidden: 32}]"
AGENT_LEVELS = (
    "levels=[{planner: {kind: cem, horizon: 3, samples: 16, iterations: 2}, every: 2}, "
    "{planner: {kind: mppi, horizon: 2, samples: 16}, every: 4}]"
)


def test_macro_action_encoder_masks_the_padding():
    torch.manual_seed(0)
    encoder = MacroActionEncoder(action_dim=2, macro_dim=3, max_len=6, hidden=16).eval()
    chunks = torch.randn(4, 6, 2)
    lengths = torch.tensor([1, 3, 5, 6])
    mu, logvar = encoder.posterior(chunks, lengths)
    garbage = chunks.clone()
    for i, n in enumerate(lengths):
        garbage[i, n:] = 100.0  # what lies past a chunk's length must not matter
    assert torch.allclose(encoder.posterior(garbage, lengths)[0], mu)
    assert torch.allclose(encoder.posterior(garbage, lengths)[1], logvar)
    # the valid part does matter, and so does the length
    changed = chunks.clone()
    changed[1, 2] += 1.0
    assert not torch.allclose(encoder.posterior(changed, lengths)[0][1], mu[1])
    longer = lengths.clone()
    longer[0] = 2
    assert not torch.allclose(encoder.posterior(chunks, longer)[0][0], mu[0])


def test_macro_action_encoder_refuses_bad_input():
    with pytest.raises(ConfigError, match="macro-action needs >= 1 dims"):
        MacroActionEncoder(2, 0, 6)
    encoder = MacroActionEncoder(2, 3, 6)
    with pytest.raises(ShapeError, match="chunk lengths must lie in"):
        encoder.posterior(torch.zeros(2, 6, 2), torch.tensor([0, 3]))
    with pytest.raises(ShapeError, match="macro-action chunks"):
        encoder.posterior(torch.zeros(2, 6, 3), torch.tensor([1, 3]))
    with pytest.raises(ConfigError, match="never trained"):
        encoder.from_unit(torch.zeros(1, 3))


def test_macro_actions_are_planned_inside_the_trained_range():
    encoder = MacroActionEncoder(2, 2, 4, hidden=8).train()
    encoder(torch.randn(64, 4, 2), torch.full((64,), 4))
    low, high = encoder.low.clone(), encoder.high.clone()
    assert (low < high).all()
    assert torch.allclose(encoder.from_unit(torch.full((1, 2), 7.0))[0], high)
    assert torch.allclose(encoder.from_unit(-torch.ones(1, 2))[0], low)


def test_latent_sequences_follow_the_gap_range():
    episodes = [(torch.arange(41.0)[:, None].expand(41, 3), torch.ones(40, 2))] * 2
    data = LatentSequences(episodes, gaps=[(2, 4), (5, 9)], sequences=[3, 2], seed=1)
    item = data[7]
    assert item["level2_states"].shape == (4, 3) and item["level2_chunks"].shape == (3, 4, 2)
    gaps = item["level3_states"][1:, 0] - item["level3_states"][:-1, 0]
    assert torch.equal(gaps.long(), item["level3_lengths"])  # states sit `gap` steps apart
    assert ((gaps >= 5) & (gaps <= 9)).all()
    chunks, lengths = item["level3_chunks"], item["level3_lengths"]
    for chunk, n in zip(chunks, lengths, strict=True):
        assert chunk[:n].eq(1).all() and chunk[n:].eq(0).all()  # padding is zero
    assert torch.equal(data[7]["level2_states"], item["level2_states"])  # index-determined
    with pytest.raises(ConfigError, match="gap range .5, 3. is empty"):
        LatentSequences(episodes, gaps=[(5, 3)], sequences=[1])
    with pytest.raises(ConfigError, match="needs episodes of 60 steps.*longest has 40"):
        LatentSequences(episodes, gaps=[(10, 30)], sequences=[2])


@pytest.fixture(scope="module")
def hierarchy_run(tmp_path_factory):
    """A tiny Two-Rooms world model and a 3-level hierarchy trained on its store."""
    root = tmp_path_factory.mktemp("hier")
    world = [*SMOKE_WORLD, f"train.run_dir={root}", "train.name=base", "data.episode_steps=40"]
    train(load_config("configs/two_rooms.yaml", [*world, "train.progress=false"]))
    cfg = load_config(
        None,
        [
            "model.kind=hierarchy",
            f"hierarchy.base_run={root / 'base'}",
            f"hierarchy.levels={LEVELS}",
            f"train.run_dir={root}",
            "train.name=hier",
            "train.steps=200",
            "train.batch_size=32",
            "train.log_every=1",
            "train.monitor_every=20",
            "train.progress=false",
            "train.tensorboard=false",
            "optim.warmup_steps=5",
        ],
    )
    result = train(cfg)
    return root, result


def test_levels_stack_to_depth_three_and_each_level_learns(hierarchy_run):
    root, result = hierarchy_run
    run = open_run(root / "hier")
    assert run.model.depth == 3 and [level.dim for level in run.model.levels] == [8, 8]
    rows = list(csv.DictReader((root / "hier" / "metrics.csv").open()))
    for k in (2, 3):  # relative to the targets' spread, which the regularizer grows
        first = sum(float(r[f"level{k}/relative_pred_loss"]) for r in rows[5:15]) / 10
        last = sum(float(r[f"level{k}/relative_pred_loss"]) for r in rows[-10:]) / 10
        assert last < 0.8 * first, (k, first, last)
        assert f"level{k}/emb_rankme" in result.metrics  # each level's collapse monitor
    assert run.model.levels[0].macro.seen
    assert len(run.train_episodes) == 36  # the base run's store and split


def test_hierarchical_actor_with_no_level_above_plans_as_the_flat_one(hierarchy_run):
    root, _ = hierarchy_run
    no_critic = load_config(None, ["cost.critic_weight=0"], root=AgentConfig)
    configurator = Configurator(no_critic, root / "hier", False)
    agent = configurator.build()
    imagination = agent.actor.imagination
    state, goal = torch.randn(2, 8), torch.randn(2, 8)
    flat = Actor(imagination, RecedingHorizon(CEMPlanner(horizon=3, samples=16, seed=5)))
    hierarchical = HierarchicalActor(
        configurator.hierarchy, imagination, RecedingHorizon(CEMPlanner(3, samples=16, seed=5)), []
    )
    for actor in (flat, hierarchical):
        actor.reset(goal)
    for _ in range(3):
        a, _ = flat.act(state, goal)
        b, _ = hierarchical.act(state, goal)
        assert torch.equal(a, b)
        state = state + 0.1


def test_subgoals_are_handed_down_level_by_level(hierarchy_run):
    root, _ = hierarchy_run
    overrides = [*SMOKE_AGENT, "cost.critic_weight=0", AGENT_LEVELS]
    cfg = load_config("configs/agent_two_rooms.yaml", overrides, root=AgentConfig)
    actor = Configurator(cfg, root / "hier", False).build().actor
    state, goal = torch.randn(3, 8), torch.randn(3, 8)
    actor.reset(goal)
    action, info = actor.act(state, goal)
    assert action.shape == (3, 2) and action.abs().max() <= 2.45
    assert [tuple(s.shape) for s in actor.subgoals()] == [(3, 8), (3, 8)]
    # level 1 (mppi 128 x 2 x H 4) + level 2 (cem 16 x 2 x H 3) + level 3 (mppi 16 x 2 x H 2)
    assert info["imagined_steps"] == 128 * 2 * 4 + 16 * 2 * 3 + 16 * 2 * 2
    _, info = actor.act(state, goal)  # level 2 replans every 2 steps, level 3 every 4
    assert info["imagined_steps"] == 128 * 2 * 4


def test_hierarchical_agent_config_on_a_one_level_run_is_refused(hierarchy_run):
    root, _ = hierarchy_run
    cfg = load_config(None, [AGENT_LEVELS], root=AgentConfig)
    with pytest.raises(ConfigError, match="plans with 3 levels, but .*base has 1"):
        Configurator(cfg, root / "base", False)
    deeper = AGENT_LEVELS.replace("every: 4}]", "every: 4}, {every: 8}]")
    with pytest.raises(ConfigError, match="plans with 4 levels, but .*hier has 3"):
        Configurator(load_config(None, [deeper], root=AgentConfig), root / "hier", False)


def test_hierarchy_needs_a_trained_base_run(tmp_path):
    cfg = load_config(None, ["model.kind=hierarchy", f"hierarchy.base_run={tmp_path}"])
    with pytest.raises(ConfigError, match="not a trained run folder"):
        train(cfg)


def test_level_costs_measure_in_the_space_above(hierarchy_run):
    root, _ = hierarchy_run
    overrides = [*SMOKE_AGENT, "cost.critic_weight=0", AGENT_LEVELS]
    configurator = Configurator(
        load_config(None, overrides, root=AgentConfig), root / "hier", False
    )
    hierarchy = configurator.hierarchy
    states, actions = torch.randn(2, 5, 3, 8), torch.zeros(2, 5, 3, 2)
    target = torch.randn(2, 8)
    cost = configurator.level_cost(1)(states, target, actions)  # level 1 -> level 2's subgoal
    lifted = hierarchy.level(2).encode(states)
    expected = (lifted - target[:, None, None]).pow(2).sum(-1).sum(-1)
    assert torch.allclose(cost, expected, atol=1e-5)
    top = configurator.level_cost(3)(states, target, actions)  # the top: its own space
    assert torch.allclose(top, (states - target[:, None, None]).pow(2).sum(-1).sum(-1))


def test_horizon_errors_per_level(hierarchy_run):
    root, _ = hierarchy_run
    result = horizon_errors(open_run(root / "hier"), [1, 3, 12], samples=16, probe_steps=100)
    assert result["horizons"] == [1, 3, 12] and result["units"] == "px"
    levels = result["levels"]
    assert sorted(levels) == [1, 2, 3] and all(e > 0 for e in levels[1])
    # level 2 predicts 2-4 steps per macro-step: 1 step is n/a, 3 and 12 are not
    assert levels[2][0] is None and levels[2][1] > 0 and levels[2][2] > 0
    assert levels[3][:2] == [None, None] and levels[3][2] > 0  # level 3: 6-12 steps


def test_batched_episodes_follow_the_tasks(hierarchy_run):
    root, _ = hierarchy_run
    cfg = load_config(None, ["cost.critic_weight=0", "cost.energy_weight=1"], root=AgentConfig)
    configurator = Configurator(cfg, root / "base", False)
    agent = configurator.build()
    tasks = configurator.tasks(3)
    sim = make_sim("hjepa/TwoRooms-v0", 3)
    results = run_batched(agent, sim, tasks, max_steps=6)
    assert len(results) == 3
    for result in results:
        assert result["success"] == (result["final_distance"] <= 4.5)
        assert result["success"] or result["steps"] == 6
        assert result["imagined"] == 128 * 2 * 4  # MPPI samples x rounds x horizon, every step
    with pytest.raises(ConfigError, match="3 tasks need a simulator of 3 envs"):
        run_batched(agent, make_sim("hjepa/TwoRooms-v0", 2), tasks, 2)
    memory = load_config(None, ["cost.critic_weight=0", "cost.visit_weight=0.3"], root=AgentConfig)
    with pytest.raises(ConfigError, match="cannot use the short-term memory"):
        run_batched(Configurator(memory, root / "base", False).build(), sim, tasks, 2)


def test_mode1_policy_is_distilled_from_the_hierarchical_planner(hierarchy_run, tmp_path):
    root, _ = hierarchy_run
    small = ["policy.episodes=2", "policy.dagger_rounds=0", "policy.steps=20", "task.max_steps=5"]
    cfg = load_config(None, [*small, "cost.critic_weight=0", AGENT_LEVELS], root=AgentConfig)
    configurator = Configurator(cfg, root / "hier", False)
    agent = configurator.build(mode=1)
    assert agent.actor.mode == 1 and (root / "hier" / "agent" / "policy.pt").is_file()
    decisions = configurator.build(mode=2)  # the teacher is hierarchical
    assert isinstance(decisions.actor, HierarchicalActor)


MAZE_1X3 = {"rooms": [1, 3], "layout_seed": 0, "door_px": 6, "max_norm": 2.0}


def random_policy_successes(tasks, max_steps: int, seed: int = 0) -> int:
    """Goals reached by uniformly random moves (the baseline of the tiny maze test)."""
    sim = make_sim("hjepa/Maze-v0", len(tasks), **MAZE_1X3)
    goals = np.array([t["goal"] for t in tasks])
    sim.reset(seed=seed, options={"start": np.array([t["start"] for t in tasks])})
    rng, reached = np.random.default_rng(seed), np.zeros(len(tasks), bool)
    for _ in range(max_steps):
        states = sim.step(rng.uniform(-2.0, 2.0, (len(tasks), 2)))[1]
        reached |= np.hypot(*(states[:, :2] - goals).T) <= GOAL_RADIUS
    return int(reached.sum())


@pytest.mark.slow
def test_tiny_two_level_maze_agent_reaches_a_goal_two_rooms_away(tmp_path):
    """Three rooms in a row, start in the first and goal in the last (about 20 moves through
    two doors): a 2-level agent trained in seconds beats random moves."""
    common = [f"train.run_dir={tmp_path}", "train.progress=false", "train.tensorboard=false"]
    world = [
        *common,
        "train.name=maze",
        f"data.env_kwargs={MAZE_1X3}",
        "data.episodes=120",
        "data.episode_steps=40",
        "data.frames=9",
        "world.state_dim=16",
        "world.channels=[8,16,16]",
        "world.hidden=64",
        "world.rollout_steps=8",
        "train.steps=300",
        "train.batch_size=32",
        "train.monitor_every=1000",
        "train.checkpoint_every=1000",
    ]
    train(load_config("configs/maze.yaml", world))
    levels = "[{dim: 8, hidden: 64, macro_dim: 2, gap: [3, 6], sequence: 2}]"
    hier = [*common, "train.name=hier", f"hierarchy.base_run={tmp_path / 'maze'}"]
    hier += [f"hierarchy.levels={levels}", "train.steps=300", "train.batch_size=64"]
    train(load_config("configs/maze_hierarchy.yaml", [*hier, "train.checkpoint_every=1000"]))
    agent_levels = (
        "levels=[{planner: {kind: cem, horizon: 3, samples: 64, iterations: 3, elites: 8}, "
        "every: 2, energy: last, energy_weight: 1, critic_weight: 1, snap: true}]"
    )
    cfg = load_config(
        "configs/agent_maze_hierarchy.yaml",
        [agent_levels, "critic.steps=1500", "critic.cap=60", "critic.batch=512"],
        root=AgentConfig,
    )
    configurator = Configurator(cfg, tmp_path / "hier", False)
    agent = configurator.build()
    rng = np.random.default_rng(0)
    centres = make_sim("hjepa/Maze-v0", 1, **MAZE_1X3).room_centres()[0]
    jitter = lambda: rng.uniform(-3, 3, 2)  # noqa: E731
    tasks = [{"start": centres[0] + jitter(), "goal": centres[2] + jitter()} for _ in range(12)]
    sim = make_sim("hjepa/Maze-v0", len(tasks), **MAZE_1X3)
    planned = sum(r["success"] for r in run_batched(agent, sim, tasks, max_steps=60))
    random = random_policy_successes(tasks, max_steps=60)
    assert planned >= 4 and planned > random, (planned, random)  # measured: 8 of 12 vs 0
