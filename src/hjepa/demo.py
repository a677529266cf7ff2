"""`hjepa demo`: the main job end to end on Two-Rooms (fixed wall).

collect random-walk trajectories -> train the JEPA world model -> train the critic -> plan to
goals in the other room with the six-module agent -> print success and latency; everything lands
in `<run_dir>/<name>/` (the world model's run folder, `plan/report.md` for the agent).
"""

from hjepa.agent.config import AgentConfig
from hjepa.agent.configurator import Configurator
from hjepa.config import load_config
from hjepa.eval.planning import evaluate_agent
from hjepa.train.trainer import train

WORLD_PRESET = "configs/two_rooms.yaml"
AGENT_PRESET = "configs/agent_two_rooms.yaml"
# A smoke version for CI: every stage runs, on sizes that take seconds.
SMOKE_WORLD = [
    "data.episodes=40",
    "data.episode_steps=20",
    "data.frames=5",
    "world.state_dim=8",
    "world.channels=[4,8,8]",
    "world.hidden=16",
    "world.rollout_steps=4",
    "train.steps=10",
    "train.batch_size=8",
    "optim.warmup_steps=2",
    "train.tensorboard=false",
]
SMOKE_AGENT = ["task.episodes=2", "task.max_steps=10", "critic.steps=20", "critic.walks=4"]


def run_demo(
    run_dir: str = "runs",
    name: str = "demo_two_rooms",
    episodes: int | None = None,
    smoke: bool = False,
    presets: tuple[str, str] = (WORLD_PRESET, AGENT_PRESET),
) -> dict:
    """Train and evaluate; returns the planning summary (see `evaluate_agent`)."""
    world = [f"train.run_dir={run_dir}", f"train.name={name}", *(SMOKE_WORLD if smoke else [])]
    cfg = load_config(presets[0], world)
    print(f"[1/2] world model: collect {cfg.data.episodes} episodes, train {cfg.train.steps} steps")
    result = train(cfg, overwrite=True)
    agent_overrides = [*(SMOKE_AGENT if smoke else [])]
    if episodes is not None:
        agent_overrides.append(f"task.episodes={episodes}")
    agent_cfg = load_config(presets[1], agent_overrides, root=AgentConfig)
    print(f"[2/2] agent: critic, then {agent_cfg.task.episodes} goal-reaching episodes")
    summary = evaluate_agent(Configurator(agent_cfg, result.run_dir), result.run_dir / "plan")
    summary["report"] = str(result.run_dir / "plan" / "report.md")
    return summary
