"""The six-module agent: cost, memory, Mode-1 distillation, the loop, the demo and bad input."""

import json
import math

import numpy as np
import pytest
import torch

from hjepa.agent.agent import run_episode
from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.agent.correction import ExperienceCorrection
from hjepa.agent.cost import CostModule, Imagination
from hjepa.agent.critic import DistanceCritic
from hjepa.agent.memory import ShortTermMemory
from hjepa.agent.policy import ReactivePolicy, distill
from hjepa.cli import main
from hjepa.config import load_config
from hjepa.demo import run_demo
from hjepa.envs.tasks import goal_tasks
from hjepa.errors import ConfigError, HjepaError, ShapeError
from hjepa.eval.planning import evaluate_agent, wilson_interval


def test_cost_terms_match_a_direct_computation():
    torch.manual_seed(0)
    states, goal, actions = torch.randn(2, 3, 4, 5), torch.randn(2, 5), torch.randn(2, 3, 4, 2)
    critic = DistanceCritic(5, hidden=8, embed_dim=4)
    energy = (states - goal[:, None, None]).pow(2).sum(-1)
    togo = critic(states, goal[:, None, None].expand_as(states))
    cost = CostModule(0.5, "sum", 0.1, critic, 2.0, "last")(states, goal, actions)
    expected = 0.5 * energy.sum(-1) + 2.0 * togo[..., -1] + 0.1 * actions.pow(2).sum((-1, -2))
    assert torch.allclose(cost, expected, atol=1e-5)
    last = CostModule(1.0, "last", critic=None)(states, goal, actions)
    assert torch.allclose(last, energy[..., -1])
    with pytest.raises(ConfigError, match="energy"):
        CostModule(energy="mean")


def test_revisiting_cost_counts_this_episodes_nearby_states():
    memory = ShortTermMemory()
    memory.start_episode()
    visited = torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    for state in visited:
        memory.record(state, torch.zeros(2), torch.zeros(2), 0.0, 0.0)
    cost = CostModule(0.0, critic=None, visit_weight=0.5, visit_radius=1.0, memory=memory)
    ends = torch.tensor([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0]])  # plans ending here (H = 2)
    states = torch.stack([torch.full_like(ends, 99.0), ends], dim=1)[None]  # [1, 3, 2, 2]
    got = cost(states, torch.zeros(1, 2), torch.zeros(1, 3, 2, 2))[0]
    d2 = torch.cdist(ends, visited).pow(2)
    torch.testing.assert_close(got, 0.5 * torch.exp(-d2 / 2).sum(-1))
    assert got[0] > got[1] > got[2] >= 0  # twice visited > near a visit > never near one
    memory.start_episode()  # a new episode remembers no visits
    assert cost(states, torch.zeros(1, 2), torch.zeros(1, 3, 2, 2)).abs().max() == 0
    with pytest.raises(ConfigError, match="revisiting"):
        CostModule(visit_weight=0.5)  # no memory to count visits in


class Displacement:
    """A world model whose next state is the state plus the action: s' = s + a."""

    action_dim = 2

    def rollout(self, s0, actions):
        return s0[:, None] + actions.cumsum(1)


def test_imagination_moves_as_the_env_does_on_its_norm_ball():
    energy = CostModule(1.0, "last", critic=None)
    box = Imagination(Displacement(), energy, max_action=2.0)
    ball = Imagination(Displacement(), energy, max_action=2.0, max_norm=2.0)
    actions = torch.tensor([[[[2.0, 2.0]], [[0.6, -0.8]]]])  # [B=1, N=2, H=1, A=2]
    executed = ball.executed(actions)
    assert torch.allclose(executed[0, 0, 0], torch.tensor([2.0, 2.0]) / 2**0.5)  # scaled down
    assert torch.equal(executed[0, 1], actions[0, 1])  # inside the ball: unchanged
    start, goal = torch.zeros(1, 2), torch.tensor([[2.0, 2.0]])
    assert box.cost(start, goal, actions)[0, 0] == 0  # the box would reach the goal ...
    assert ball.cost(start, goal, actions)[0, 0] == pytest.approx(2 * (2 - 2**0.5) ** 2)  # ... no


def test_memory_records_and_forgets_the_oldest_episodes():
    memory = ShortTermMemory(capacity=5)
    for episode in range(3):
        memory.start_episode()
        for t in range(2):
            memory.record(torch.full((3,), float(episode)), torch.zeros(3), torch.ones(2), 1.0, t)
    assert len(memory) == 4 and len(memory.episodes()) == 2
    assert memory.episodes()[0][0, 0] == 1.0  # episode 0 was dropped
    decisions = memory.decisions()
    assert decisions["state"].shape == (4, 3) and decisions["action"].shape == (4, 2)
    assert memory.episode()["realized_cost"].tolist() == [0.0, 1.0]


def test_memory_surprises_are_this_episodes_prediction_errors():
    memory = ShortTermMemory()
    memory.start_episode()
    states = torch.randn(4, 3)
    predicted = torch.randn(4, 3)
    for t in range(4):
        a = torch.full((2,), float(t))
        # step 1 has no prediction; executed differs from the chosen action
        kwargs = {} if t == 1 else {"predicted_next": predicted[t]}
        memory.record(states[t], torch.zeros(3), a, 0.0, 0.0, executed=a + 10, **kwargs)
    seen, tried, errors = memory.surprises()
    assert torch.equal(seen, states[[0, 2]]) and torch.equal(tried[:, 0], torch.tensor([10, 12.0]))
    assert torch.allclose(errors, states[[1, 3]] - predicted[[0, 2]])
    memory.start_episode()  # a new episode starts with nothing known
    assert len(memory.surprises()[0]) == 0


def test_correction_predicts_a_tried_move_as_it_turned_out():
    memory = ShortTermMemory()
    memory.start_episode()
    blocked = torch.tensor([1.0, 0.0])  # a wall: the move right does nothing, twice
    for _ in range(3):
        memory.record(torch.zeros(2), torch.zeros(2), blocked, 0.0, 0.0, predicted_next=blocked)
    energy = CostModule(1.0, "last", critic=None)
    correction = ExperienceCorrection(memory, state_radius=0.25, action_radius=0.25)
    corrected = Imagination(Displacement(), energy, max_action=2.0, correction=correction)
    plain = Imagination(Displacement(), energy, max_action=2.0)
    start, goal = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    moves = torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])  # right (tried), up (never tried)
    assert plain.cost(start, goal, moves)[0, 0] == 0  # the world model believes it passes
    cost = corrected.cost(start, goal, moves)[0]
    assert cost[0] == pytest.approx(1.0, abs=1e-6)  # as it turned out, not twice the error
    assert cost[1] == pytest.approx(plain.cost(start, goal, moves)[0, 1].item(), rel=1e-5)
    # the kernel average, against a direct computation on random memories
    torch.manual_seed(0)
    memory.start_episode()
    for _ in range(6):
        memory.record(
            torch.randn(2), torch.zeros(2), torch.randn(2), 0.0, 0.0, None, torch.randn(2)
        )
    states, actions, errors = memory.surprises()
    queries, moves = torch.randn(4, 2), torch.randn(4, 2)
    weights = torch.tensor(
        [
            [
                math.exp(-((q - si) ** 2).sum() / 0.5 - ((u - ai) ** 2).sum() / 0.5)
                for si, ai in zip(states, actions, strict=True)
            ]
            for q, u in zip(queries, moves, strict=True)
        ]
    )
    expected = (weights @ errors) / weights.sum(1, keepdim=True).clamp_min(1.0)
    wide = ExperienceCorrection(memory, state_radius=0.5, action_radius=0.5)
    assert torch.allclose(wide.offset(queries, moves), expected, atol=1e-5)
    with pytest.raises(ConfigError, match="radii"):
        ExperienceCorrection(memory, 0.0, 0.5)


def test_distillation_fits_the_teacher_and_respects_bounds():
    torch.manual_seed(0)
    states, goals = torch.randn(512, 4), torch.randn(512, 4)
    actions = (0.5 * (goals - states)[:, :2]).clamp(-1, 1)
    policy = ReactivePolicy(4, 2, max_action=1.0, hidden=64)
    data = {"state": states, "goal": goals, "action": actions}
    with torch.no_grad():
        before = float((policy(states, goals) - actions).pow(2).sum(-1).mean())
    after = distill(policy, data, steps=400, batch=128, lr=3e-3, progress=False)
    assert after < 0.1 * before
    assert policy(100 * states, goals).abs().max() <= 1.0
    with pytest.raises(ShapeError, match="policy"):
        policy(states, goals[:, :3])


def test_goal_folded_policy_matches_the_policy():
    torch.manual_seed(0)
    policy = ReactivePolicy(state_dim=6, action_dim=2, max_action=2.45, hidden=32).eval()
    states, goal = torch.randn(5, 6), torch.randn(1, 6)
    expected = policy(states, goal.expand_as(states))
    torch.testing.assert_close(policy.for_goal(goal)(states), expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ShapeError, match="goal latent"):
        policy.for_goal(torch.randn(2, 6))


def test_policy_acting_noise_is_centred_on_the_policy_and_bounded():
    torch.manual_seed(0)
    noisy = ReactivePolicy(6, 2, max_action=2.45, hidden=32, noise=0.3, seed=1).eval()
    state, goal = torch.randn(1, 6), torch.randn(1, 6)
    mean = noisy(state, goal)  # forward (distillation, DAgger) stays deterministic
    act = noisy.for_goal(goal)
    actions = torch.cat([act(state) for _ in range(3000)])  # past one block of noise draws
    assert actions.abs().max() <= 2.45 and actions.std(0).min() > 0.3
    assert mean.abs().max() < 0.1  # near zero the tanh is nearly linear: centred noise
    torch.testing.assert_close(actions.mean(0), mean[0], atol=0.05, rtol=0)
    with pytest.raises(ConfigError, match="noise"):
        ReactivePolicy(6, 2, max_action=1.0, noise=-0.1)


def test_wilson_interval():
    low, high = wilson_interval(200, 200)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.9812, abs=1e-4)
    low, high = wilson_interval(50, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)


def test_task_sets_are_seeded_and_cross_rooms():
    tasks = goal_tasks("hjepa/TwoRoomsRandomWall-v0", 20, seed=3)
    assert tasks == goal_tasks("hjepa/TwoRoomsRandomWall-v0", 20, seed=3)
    assert len({t["wall_x"] for t in tasks}) > 1
    for t in tasks:
        centre = t["wall_x"] + 0.5
        assert (t["start"][0] < centre) != (t["goal"][0] < centre)
    with pytest.raises(ConfigError, match="no task set for env .CartPole-v1.*register_tasks"):
        goal_tasks("CartPole-v1", 2, 0)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo's smoke version: collect, train, critic, plan, report."""
    root = tmp_path_factory.mktemp("demo")
    summary = run_demo(str(root), "demo", smoke=True)
    return root / "demo", summary


def test_demo_smoke_runs_every_stage(demo_run):
    run, summary = demo_run
    for name in ("report.md", "summary.json", "episodes.json", "trajectories.png", "episode_0.gif"):
        assert (run / "plan" / name).stat().st_size > 0
    assert (run / "agent" / "critic.pt").is_file()
    episodes = json.loads((run / "plan" / "episodes.json").read_text())
    assert len(episodes) == summary["episodes"] == 2
    assert summary["success_rate"] == np.mean([e["success"] for e in episodes])
    for e in episodes:  # success = the goal reached within the budget, failure = budget spent
        assert (e["final_distance"] <= 4.5) == e["success"]
        assert e["success"] or e["steps"] == 10
        assert len(e["positions"]) == e["steps"] + 1
        assert len(e["replan_seconds"]) == e["steps"]  # a replan after every action
    assert summary["replans"] == sum(e["steps"] for e in episodes)
    assert summary["imagined_steps_per_replan"] == 128 * 2 * 4  # MPPI: samples x rounds x H
    # 40 episodes, 10 % held out: 36 of 21 frames, plus the smoke run's 4 walks (SMOKE_AGENT)
    critic_data = (
        "36 training episodes of the store (756 frames) plus 4 random walks of 200 steps from "
        "the simulator (extra environment interaction)"
    )
    assert summary["critic_data"] == critic_data
    assert critic_data in (run / "plan" / "report.md").read_text()
    assert json.loads((run / "plan" / "summary.json").read_text())["critic_data"] == critic_data


def agent_config(*overrides):
    from hjepa.demo import SMOKE_AGENT

    return load_config("configs/agent_two_rooms.yaml", [*SMOKE_AGENT, *overrides], root=AgentConfig)


@pytest.mark.parametrize("planner", ["gradient", "cem", "mppi"])
def test_every_planner_drives_the_agent_inside_the_bounds(demo_run, planner):
    run, _ = demo_run
    cfg = agent_config(f"planner.kind={planner}", "memory.correction=true")
    configurator = Configurator(cfg, run, progress=False)
    agent = configurator.build()
    env = configurator.make_env()
    obs, info = env.reset(seed=0, options=configurator.tasks(1)[0])
    agent.reset(info["goal_obs"])
    for _ in range(3):
        action, decision = agent.act(obs)
        assert action.shape == (2,) and np.abs(action).max() <= env.action_space.high[0] + 1e-6
        obs, *_ = env.step(action)
    assert len(agent.memory) == 3 and decision["seconds"] > 0
    assert len(agent.memory.surprises()[0]) == 2  # the outcomes of the first two moves


def test_mode1_policy_is_distilled_from_mode2(demo_run):
    run, _ = demo_run
    cfg = agent_config("mode=1", "policy.episodes=2", "policy.steps=5")
    configurator = Configurator(cfg, run, progress=False)
    agent = configurator.build()
    assert agent.actor.mode == 1 and (run / "agent" / "policy.pt").is_file()
    env = configurator.make_env()
    obs, info = env.reset(seed=0, options=configurator.tasks(1)[0])
    agent.reset(info["goal_obs"])
    action, decision = agent.act(obs)
    assert action.shape == (2,) and not decision["planned"]


def test_bad_agent_input_is_named(demo_run, tmp_path):
    run, _ = demo_run
    configurator = Configurator(agent_config(), run, progress=False)
    agent = configurator.build()
    with pytest.raises(ShapeError, match="observation"):
        agent.reset(np.zeros((3, 64, 64), np.uint8))  # a goal image of another env
    with pytest.raises(ShapeError, match="observation"):
        agent.reset(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ConfigError, match=r"planner\.iterations: must be >= 1, got 0"):
        agent_config("planner.iterations=0")
    with pytest.raises(ConfigError, match="unknown config key planner.budget"):
        agent_config("planner.budget=3")
    with pytest.raises(HjepaError):
        Configurator(agent_config(), tmp_path, progress=False)  # no world model there


def test_the_critic_learns_from_the_agents_memory(demo_run, tmp_path):
    run, _ = demo_run
    cfg = agent_config("task.max_steps=6", "critic.memory_every=1", "critic.memory_steps=3")
    configurator = Configurator(cfg, run, progress=False)
    cached = configurator.critic().state_dict()
    agent = configurator.build()
    env = configurator.make_env()
    for i, options in enumerate(configurator.tasks()):
        run_episode(agent, env, i, options, cfg.task.max_steps)
    before = {k: v.clone() for k, v in agent.cost.critic.state_dict().items()}
    metrics = configurator.learn_from_memory(agent)
    assert metrics["far_mean"] > 0 and not agent.cost.critic.training
    changed = agent.cost.critic.state_dict()
    assert any(not torch.equal(before[k], changed[k]) for k in before)
    reloaded = Configurator(cfg, run, progress=False).critic().state_dict()
    assert all(torch.equal(cached[k], reloaded[k]) for k in cached)  # the cache is untouched
    summary = evaluate_agent(configurator, tmp_path / "plan")  # the harness learns as it goes
    assert summary["episodes"] == 2


def test_plan_cli(demo_run, capsys):
    run, _ = demo_run
    out = run / "plan_cli"
    args = ["plan", str(run), "--planner", "cem", "--episodes", "1", "--out", str(out)]
    code = main([*args, "task.max_steps=5", "critic.steps=20", "critic.walks=4"])
    assert code == 0 and "success" in capsys.readouterr().out
    assert (out / "report.md").is_file()
    assert main(["plan", str(run / "nowhere")]) == 2
    assert "error" in capsys.readouterr().err
