"""The bad inputs of `bad_inputs.py`: what a careless user could type at each entry point, and
the words a clear error about it must contain (the key as written, the option, the file)."""

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# The shared run (and every `hjepa train` case): Two-Rooms at test sizes, named runs/base.
TINY = (
    "data.episodes=24",
    "data.episode_steps=12",
    "data.frames=5",
    "data.held_out=0.25",
    "world.state_dim=8",
    "world.channels=[4,8,8]",
    "world.hidden=16",
    "world.rollout_steps=4",
    "train.steps=6",
    "train.batch_size=8",
    "train.progress=false",
    "train.tensorboard=false",
    "optim.warmup_steps=2",
    "train.name=base",
)
# `hjepa plan` cases: an agent that would finish in seconds if a bad input got through.
TINY_AGENT = ("task.episodes=2", "task.max_steps=10", "critic.steps=20", "critic.batch=64")
TINY_IJEPA = (
    "data.num_samples=64",
    "data.image_size=16",
    "model.embed_dim=16",
    "model.depth=1",
    "model.num_heads=2",
    "model.pred_dim=16",
    "model.pred_depth=1",
    "train.steps=2",
    "train.batch_size=8",
    "train.progress=false",
    "train.tensorboard=false",
)
TINY_VIDEO = tuple(o for o in TINY_IJEPA if "_dim" not in o) + (
    "model.embed_dim=24",
    "model.pred_dim=24",
)
TINY_SERIES = tuple(o for o in TINY_IJEPA if not o.startswith("data."))  # same sizes, no images
TINY_TEXT = tuple(o for o in TINY_SERIES if not o.startswith("model.pred")) + ("data.held_out=0.5",)
GOOD_PAIR = json.dumps({"text": "lines containing a number", "regex": ".*[0-9].*"})
# `hjepa eval` cases: an evaluation that would finish in seconds if a bad input got through.
TINY_EVAL = ("--windows", "64", "--probe-steps", "20")
RUN = "runs/base"
CHECKPOINT = f"{RUN}/checkpoints/last.pt"


@dataclass(frozen=True)
class Case:
    entry: str  # train | collect | eval | plan | api
    what: str
    args: tuple[str, ...] = ()  # the `hjepa` command line (CLI cases), tiny sizes left out
    small: tuple[str, ...] = ()  # the tiny sizes, after the command and its first argument
    expect: tuple[str, ...] = ()  # words a clear message contains (case-insensitive)
    code: str = ""  # API cases: Python statements
    setup: Callable[[Path], None] | None = None  # prepares the case's working folder
    run: bool = False  # needs a copy of the shared run in ./runs


def _words(expect) -> tuple[str, ...]:
    return (expect,) if isinstance(expect, str) else tuple(expect)


def train(what, *args, expect, config="configs/two_rooms.yaml", small=TINY, **kw) -> Case:
    args = ("train", config, *args)
    return Case("train", what, args, small=small, expect=_words(expect), **kw)


def data_sources(label: str, config: str, small: tuple, cases: list) -> list[Case]:
    """`hjepa train config data.source=NAME` cases: (what, NAME, the file's content or None for
    no file, more overrides, expected words)."""
    return [
        train(
            f"{label}: {what}",
            f"data.source={name}",
            *extra,
            expect=words,
            config=config,
            small=small,
            setup=write(name, content) if content is not None else None,
        )
        for what, name, content, extra, words in cases
    ]


def collect(what, expect, env="hjepa/TwoRooms-v0", extra=(), setup=None, run=False, **options):
    given = {"out": "store", "episodes": "2", "steps": "3", "workers": "1", **options}
    flags = [x for k, v in given.items() for x in (f"--{k.replace('_', '-')}", v)]
    args = ("collect", env, *flags, "--no-progress", *extra)
    return Case("collect", what, args, expect=_words(expect), setup=setup, run=run)


def evaluate(what, *args, expect, run_dir=RUN, **kw) -> Case:
    args = ("eval", run_dir, *args)
    return Case("eval", what, args, small=TINY_EVAL, expect=_words(expect), **kw)


def plan(what, *args, expect, run_dir=RUN, run=True, **kw) -> Case:
    args = ("plan", run_dir, *args)
    return Case("plan", what, args, small=TINY_AGENT, expect=_words(expect), run=run, **kw)


def api(what, code, expect, prelude="", **kw) -> Case:
    return Case("api", what, code=prelude + code, expect=_words(expect), **kw)


# -- setups of a case's working folder


def write(name: str, content: str | bytes) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return setup


def truncate(name: str) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        path = work / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return setup


def damage(name: str) -> Callable[[Path], None]:
    """2000 zero bytes written into the middle of the file."""

    def setup(work: Path) -> None:
        data = bytearray((work / name).read_bytes())
        middle = len(data) // 2
        data[middle : middle + 2000] = bytes(min(2000, len(data) - middle))
        (work / name).write_bytes(bytes(data))

    return setup


def store_of_run(work: Path) -> Path:
    """The shared run's trajectory store (wherever the run keeps it)."""
    return next(work.joinpath("runs").rglob("meta.json")).parent


def remove_store(work: Path) -> None:
    """The run's store gone from every place its data.json names: this copy's store deleted,
    and the record's absolute path (the shared run's store) pointed at it too."""
    store = store_of_run(work)
    shutil.rmtree(store)
    record_path = work / RUN / "data.json"
    record = json.loads(record_path.read_text())
    record["store"]["absolute"] = str(store.resolve())
    record_path.write_text(json.dumps(record))


def truncate_shard(work: Path) -> None:
    truncate(str(store_of_run(work).relative_to(work) / "shard_00000" / "obs.npy"))(work)


def copy_store(work: Path) -> None:
    shutil.copytree(store_of_run(work), work / "store")


def torch_save(name: str, value) -> Callable[[Path], None]:
    def setup(work: Path) -> None:
        import torch

        (work / name).parent.mkdir(parents=True, exist_ok=True)
        torch.save(value, work / name)

    return setup


def image_files(files: dict) -> Callable[[Path], None]:
    """{path: (mode, width, height)} a black image, bytes written as they are, None an empty
    folder."""

    def setup(work: Path) -> None:
        from PIL import Image

        for name, spec in files.items():
            path = work / name
            if spec is None:
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(spec, bytes):
                path.write_bytes(spec)
            else:
                Image.new(spec[0], spec[1:]).save(path)

    return setup


def image_sources(cases: list) -> list[Case]:
    """`hjepa train configs/ijepa_shapes.yaml data.source=imgs` cases: (what, image files as
    `image_files` takes them, or None for none, expected words)."""
    return [
        train(
            f"images: {what}",
            "data.source=imgs",
            expect=words,
            config="configs/ijepa_shapes.yaml",
            small=TINY_IJEPA,
            setup=image_files(files) if files is not None else None,
        )
        for what, files, words in cases
    ]


GOOD_IMAGES = {"imgs/a/0.png": ("RGB", 16, 16), "imgs/b/0.png": ("RGB", 16, 16)}


def clip(folder: str, frames: int) -> dict:
    """A clip folder of `frames` black 16 x 16 frames, as `image_files` takes it."""
    return {f"{folder}/{i}.png": ("RGB", 16, 16) for i in range(frames)}


BAD_YAML = "train:\n  steps: [1\n"
TRAIN_CASES = [
    *[
        train(f"{override} ({why})", override, expect=override.split("=")[0])
        for override, why in [
            ("optim.lr=nan", "NaN"),
            ("optim.lr=.inf", "infinite"),
            ("optim.lr=-1", "negative"),
            ("optim.lr=fast", "a string"),
            ("optim.lr=[0.1,0.2]", "a list"),
            ("optim.warmup_steps=-1", "negative"),
            ("optim.betas=[0.9,1.5]", "beta >= 1"),
            ("optim.weight_decay=-0.1", "negative"),
            ("train.steps=0", "zero"),
            ("train.steps=-5", "negative"),
            ("train.steps=.nan", "NaN"),
            ("train.steps=ten", "a string"),
            ("train.batch_size=0", "zero"),
            ("train.batch_size=[8]", "a list"),
            ("train.checkpoint_every=-1", "negative"),
            ("train.threads=-2", "negative"),
            ("data.episodes=0", "zero"),
            ("data.episodes=2.5", "a float for an int"),
            ("data.episode_steps=0", "zero"),
            ("data.held_out=1.5", "above 1"),
            ("data.held_out=.nan", "NaN"),
            ("data.frames=1", "one frame: no action"),
            ("data.image_size=0", "zero"),
            ("data.num_workers=-1", "negative"),
            ("world.state_dim=0", "zero"),
            ("world.rollout_steps=0", "zero"),
            ("world.inverse_weight=-1", "negative weight"),
            ("world.channels=[4,8]", "two channels for three layers"),
            ("optim.learning_rate=0.001", "misspelled key"),
            ("model.kind=jepa", "unknown kind"),
            ("data.name=imagenet", "unknown dataset"),
            ("world.encoder=resnet", "unknown encoder"),
            ("world.predictor=lstm", "unknown predictor"),
            ("objective.loss=l3", "unknown loss"),
            ("train.device=tpu", "unknown device"),
            ("train.progress=maybe", "not a boolean"),
            ("optim=3", "a value for a section"),
            ("world.action_dim=3", "not the env's action size"),
        ]
    ],
    train("misspelled section (trian.steps=5)", "trian.steps=5", expect="trian"),
    train("model.kind=hierarchy without a base run", "model.kind=hierarchy", expect="base_run"),
    train("data.env unknown", "data.env=hjepa/Nope-v0", expect="hjepa/Nope-v0"),
    train("data.policy unknown", "data.policy=nope", expect=("policy", "nope")),
    train("data.env_kwargs unknown kwarg", "data.env_kwargs={nope: 1}", expect="nope"),
    train("override without =", "train.steps", expect="train.steps"),
    train("override without a key", "=5", expect="=5"),
    train(
        "model.patch_size not dividing the image",
        "model.patch_size=5",
        expect="model.patch_size",
        config="configs/ijepa_shapes.yaml",
        small=TINY_IJEPA,
    ),
    train(
        "model.num_heads not dividing model.embed_dim",
        "model.num_heads=5",
        expect="model.num_heads",
        config="configs/ijepa_shapes.yaml",
        small=TINY_IJEPA,
    ),
    train("missing config file", expect="nope.yaml", config="nope.yaml"),
    train(
        "YAML syntax error", expect="bad.yaml", config="bad.yaml", setup=write("bad.yaml", BAD_YAML)
    ),
    train(
        "YAML top level is a list",
        expect="bad.yaml",
        config="bad.yaml",
        setup=write("bad.yaml", "- train\n- steps\n"),
    ),
    train(
        "YAML misspelled key",
        expect="train.stpes",
        config="bad.yaml",
        setup=write("bad.yaml", "train:\n  stpes: 5\n"),
    ),
    train(
        "YAML key given twice",
        expect="steps",
        config="bad.yaml",
        setup=write("bad.yaml", "train:\n  steps: 5\n  steps: 50\n"),
    ),
    train(
        "config file not text",
        expect="bad.yaml",
        config="bad.yaml",
        setup=write("bad.yaml", b"\x80\x81\xfe\xff" * 16),
    ),
    train("--resume without a run", "--resume", expect="--resume"),
    train(
        "--resume with a changed config", "optim.lr=0.01", "--resume", expect="optim.lr", run=True
    ),
    train("--resume of a finished run", "--resume", expect="finished", run=True),
    train("--overwrite with --resume", "--overwrite", "--resume", expect="--overwrite"),
    train("again into a trained run", expect="--resume", run=True),
    train("--stop-after 0", "--stop-after", "0", expect="--stop-after"),
    train("--stop-after -3", "--stop-after", "-3", expect="--stop-after"),
    *data_sources(
        "time series",
        "configs/tsjepa_procedural.yaml",
        TINY_SERIES,
        [
            ("NaN inside a series", "s.csv", "1,2,3,4\n5,nan,7,8\n" * 8, (), ("s.csv", "nan")),
            ("a word in a CSV cell", "s.csv", "1,2,3,4\n5,x,7,8\n" * 8, (), ("s.csv", "row 2")),
            ("series shorter than a patch", "s.csv", "1,2,3\n" * 16, (), ("s.csv", "one patch")),
            (
                "longer than the model",
                "s.csv",
                (",".join("1" * 200) + "\n") * 16,
                (),
                "max_patches",
            ),
            ("a missing file", "none.csv", None, (), "none.csv"),
            ("an unknown suffix", "s.xlsx", "1,2", (), ("s.xlsx", ".csv")),
            ("unreadable .npy", "s.npy", b"\x93NUMPY garbage", (), "s.npy"),
            ("unknown bundled dataset", "GunPointt", None, (), ("GunPointt", "GunPoint")),
            (
                "channels differ from the run's",
                "procedural",
                None,
                ("data.channels=3",),
                "data.channels=3",
            ),
        ],
    ),
    *data_sources(
        "text pairs",
        "configs/llmjepa_nlrx.yaml",
        TINY_TEXT,
        [
            (
                "an empty view",
                "p.jsonl",
                f'{GOOD_PAIR}\n{{"text": "", "regex": "dog"}}\n{GOOD_PAIR}\n',
                (),
                ("p.jsonl line 2", "empty"),
            ),
            (
                "a regex that does not compile",
                "p.jsonl",
                f'{GOOD_PAIR}\n{GOOD_PAIR}\n{{"text": "a dog", "regex": "(dog"}}\n',
                (),
                ("p.jsonl line 3", "compile"),
            ),
            (
                "a pair longer than the context",
                "p.jsonl",
                f"{GOOD_PAIR}\n" * 3,
                ("model.max_tokens=8",),
                ("p.jsonl line", "model.max_tokens"),
            ),
            ("not JSON", "p.jsonl", f"{GOOD_PAIR}\nnot json\n", (), ("p.jsonl line 2", "JSON")),
            ("a missing file", "none.jsonl", None, (), "none.jsonl"),
            ("not a .jsonl file", "p.txt", "a dog", (), ("p.txt", ".jsonl")),
            ("a training share of 0", "nlrx", None, ("data.fraction=0",), "data.fraction"),
        ],
    ),
    *image_sources(
        [
            (
                "an image of the wrong size",
                {**GOOD_IMAGES, "imgs/b/1.png": ("RGB", 20, 16)},
                ("imgs/b/1.png", "20x16", "16x16"),
            ),
            (
                "a grayscale image for 3 channels",
                {**GOOD_IMAGES, "imgs/b/1.png": ("L", 16, 16)},
                ("imgs/b/1.png", "mode L", "data.channels=3"),
            ),
            (
                "a corrupt image file",
                {**GOOD_IMAGES, "imgs/b/1.png": b"\x89PNG garbage"},
                ("imgs/b/1.png", "not a readable image"),
            ),
            ("an empty class folder", {**GOOD_IMAGES, "imgs/c": None}, ("imgs/c", "no images")),
            ("no class folders", {"imgs/notes.txt": b"hi"}, ("imgs", "no class folders")),
            ("a missing folder", None, ("imgs", "neither", "digits")),
        ]
    ),
    *[
        train(
            f"video: {what}",
            "data.source=clips",
            expect=words,
            config="configs/vjepa_moving_objects.yaml",
            small=TINY_VIDEO,
            setup=image_files({**clip("clips/b/c0", 8), **files}),
        )
        for what, files, words in [
            ("a clip shorter than data.frames", clip("clips/a/c0", 3), ("clips/a/c0", "3 frames")),
            (
                "a frame of the wrong size",
                {**clip("clips/a/c0", 8), "clips/a/c0/5.png": ("RGB", 20, 16)},
                ("clips/a/c0/5.png", "expected size"),
            ),
        ]
    ],
]

COLLECT_CASES = [
    collect("unknown env id", "hjepa/Nope-v0", env="hjepa/Nope-v0"),
    collect("env with discrete actions", "CartPole-v1", env="CartPole-v1"),
    collect("--env-kwargs not JSON", "--env-kwargs", env_kwargs="{size: 32"),
    collect("--env-kwargs a list", "--env-kwargs", env_kwargs="[1, 2]"),
    collect("--env-kwargs unknown kwarg", "nope", env_kwargs='{"nope": 1}'),
    collect("--env-kwargs size a string", "size", env_kwargs='{"size": "big"}'),
    collect("--env-kwargs random_wall a string", "random_wall", env_kwargs='{"random_wall": "no"}'),
    collect("--env-kwargs wall outside", "wall_x", env_kwargs='{"wall_x": 200}'),
    collect("--episodes 0", "--episodes", episodes="0"),
    collect("--episodes -1", "--episodes", episodes="-1"),
    collect("--steps 0", "--steps", steps="0"),
    collect("--workers 0", "--workers", workers="0"),
    collect("--policy unknown", "nope", policy="nope"),
    collect("--policy-kwargs not JSON", "--policy-kwargs", policy_kwargs="step=1"),
    collect("--policy-kwargs unknown kwarg", "nope", policy_kwargs='{"nope": 1}'),
    collect("--policy-kwargs negative step", "step_min", policy_kwargs='{"step_min": -1}'),
    collect("--out an existing file", "taken", out="taken", setup=write("taken", "my notes\n")),
    collect(
        "--append to a folder with a garbage meta.json",
        "meta.json",
        extra=("--append",),
        setup=write("store/meta.json", "{not json"),
    ),
    collect(
        "--append with other env kwargs",
        "env kwargs",
        env_kwargs='{"size": 32}',
        extra=("--append",),
        setup=copy_store,
        run=True,
    ),
]

EVAL_CASES = [
    evaluate("missing run folder", expect="runs/nope", run_dir="runs/nope"),
    evaluate(
        "folder without a checkpoint",
        expect="runs/empty",
        run_dir="runs/empty",
        setup=write("runs/empty/notes.txt", ""),
    ),
    evaluate(
        "a file instead of a folder",
        expect="notes.txt",
        run_dir="notes.txt",
        setup=write("notes.txt", ""),
    ),
    evaluate("garbage checkpoint", expect="last.pt", setup=write(CHECKPOINT, b"garbage" * 100)),
    evaluate("empty checkpoint", expect="last.pt", setup=write(CHECKPOINT, b"")),
    evaluate("checkpoint holding a list", expect="last.pt", setup=torch_save(CHECKPOINT, [1, 2])),
    evaluate("truncated checkpoint", expect="last.pt", setup=truncate(CHECKPOINT), run=True),
    evaluate("damaged checkpoint", expect="last.pt", setup=damage(CHECKPOINT), run=True),
    evaluate("--windows 0", "--windows", "0", expect="--windows", run=True),
    evaluate("--windows -5", "--windows", "-5", expect="--windows", run=True),
    evaluate("store deleted", expect="store", setup=remove_store, run=True),
    evaluate("store shard truncated", expect="obs.npy", setup=truncate_shard, run=True),
]

PLAN_CASES = [
    plan("missing run folder", expect="runs/nope", run_dir="runs/nope", run=False),
    plan(
        "garbage checkpoint", expect="last.pt", setup=write(CHECKPOINT, b"garbage" * 100), run=False
    ),
    plan(
        "folder without a checkpoint",
        expect="runs/empty",
        run_dir="runs/empty",
        run=False,
        setup=write("runs/empty/notes.txt", ""),
    ),
    plan("damaged checkpoint", expect="last.pt", setup=damage(CHECKPOINT)),
    *[
        plan(f"{override}", override, expect=override.split("=")[0])
        for override in [
            "planner.samples=0",
            "planner.horizon=-1",
            "planner.execute=0",
            "planner.execute=9",
            "planner.std=-0.5",
            "planner.temperature=0",
            "task.episodes=0",
            "task.max_steps=0",
            "critic.steps=-1",
            "critic.lr=-1",
            "cost.energy=middle",
            "cost.visit_radius=0",
            "mode=3",
        ]
    ],
    plan(
        "planner.elites above samples (cem)",
        "planner.kind=cem",
        "planner.samples=8",
        expect="elites",
    ),
    plan("planner.lr=-1 (gradient)", "planner.kind=gradient", "planner.lr=-1", expect="planner.lr"),
    plan("unknown planner.kind", "planner.kind=nope", expect="nope"),
    plan("--planner unknown", "--planner", "nope", expect="--planner"),
    plan("--episodes 0", "--episodes", "0", expect="--episodes"),
    plan("--episodes -2", "--episodes", "-2", expect="--episodes"),
    plan("--config a training config", "--config", "configs/two_rooms.yaml", expect="data"),
    plan("task.env unknown", "task.env=hjepa/Nope-v0", expect="hjepa/Nope-v0"),
    plan("levels on a flat run", "levels=[{}]", expect="levels"),
    plan(
        "--out an existing file", "--out", "taken", expect="taken", setup=write("taken", "notes\n")
    ),
]

ENV = """
import gymnasium, numpy as np, hjepa.envs
env = gymnasium.make("hjepa/TwoRooms-v0")
env.reset(seed=0)
"""
PUSHT = """
import gymnasium, numpy as np, hjepa.envs
env = gymnasium.make("hjepa/PushT-v0")
env.reset(seed=0)
"""
SIM = """
import numpy as np
from hjepa.envs import make_sim
sim = make_sim("hjepa/TwoRooms-v0", 4)
"""
MODEL = f"""
import torch
from hjepa.config import load_config
from hjepa.experiment import build_model
model = build_model(load_config("configs/two_rooms.yaml", {list(TINY)!r}))
obs, actions = torch.rand(2, 5, 2, 64, 64), torch.zeros(2, 4, 2)
"""
WRITER = """
import numpy as np
from hjepa.data.store import TrajectoryWriter
writer = TrajectoryWriter("s", "hjepa/TwoRooms-v0", observation_shape=(2, 8, 8))
obs, actions = np.zeros((10, 2, 8, 8), np.uint8), np.zeros((10, 2), np.float32)
states, starts = np.zeros((10, 4), np.float32), np.array([0, 5])
"""
STORE = "from hjepa.data.store import TrajectoryStore\n"
EXPORT = "from hjepa.nets.export import load_model\n"
META = '{"format": "hjepa-trajectories", "format_version": 1, "env_id": "hjepa/TwoRooms-v0", '
META += '"observation": {"shape": [2, 8, 8]}, "action_dim": 2, "shards": [{"name": "x"}]}'

API_CASES = [
    api(
        "reset goal outside the arena",
        'env.reset(options={"goal": (500, 500)})',
        "options['goal']",
        ENV,
    ),
    api("reset goal a word", 'env.reset(options={"goal": "far"})', "options['goal']", ENV),
    api("reset start in a wall", 'env.reset(options={"start": (1, 1)})', "options['start']", ENV),
    api("reset wall_x outside", 'env.reset(options={"wall_x": 3})', "wall_x", ENV),
    api("step NaN action", "env.step(np.array([np.nan, 0.0]))", ("action", "nan"), ENV),
    api("step action of shape (3,)", "env.step(np.zeros(3))", ("action", "shape"), ENV),
    api("step action out of range", "env.step(np.array([100.0, 0.0]))", "action", ENV),
    api(
        "make with unknown kwarg", 'env = gymnasium.make("hjepa/TwoRooms-v0", nope=1)', "nope", ENV
    ),
    api("Push-T goal from Two-Rooms", 'env.reset(options={"goal": (10, 20)})', "agent_x", PUSHT),
    api(
        "Push-T goal outside the workspace",
        'env.reset(options={"goal": (600, 20, 250, 250, 0, 0, 0)})',
        ("goal", "must lie in"),
        PUSHT,
    ),
    api("Push-T action outside", "env.step(np.array([1.5, 0.0]))", ("action", "outside"), PUSHT),
    api("make_sim unknown id", 'make_sim("hjepa/Nope-v0")', "hjepa/Nope-v0", SIM),
    api("sim step actions for 3 envs", "sim.reset(); sim.step(np.zeros((3, 2)))", "actions", SIM),
    api(
        "model frames with 3 channels",
        'model({"obs": torch.rand(2, 5, 3, 64, 64), "actions": actions})',
        "frames",
        MODEL,
    ),
    api(
        "model NaN frames",
        'model({"obs": obs * float("nan"), "actions": actions})',
        ("frames", "nan"),
        MODEL,
    ),
    api(
        "model actions of size 3",
        'model({"obs": obs, "actions": torch.zeros(2, 4, 3)})',
        "actions",
        MODEL,
    ),
    api("model batch without actions", 'model({"obs": obs})', "actions", MODEL),
    api("encode a 2-d image", "model.encode(torch.rand(64, 64))", "frames", MODEL),
    api(
        "rollout state of the wrong size", "model.rollout(torch.zeros(2, 5), actions)", "s0", MODEL
    ),
    api(
        "rollout NaN state",
        'model.rollout(torch.full((2, 8), float("nan")), actions)',
        ("s0", "nan"),
        MODEL,
    ),
    api(
        "add_shard actions of other length",
        "writer.add_shard(obs, actions[:9], states, starts)",
        "actions",
        WRITER,
    ),
    api(
        "add_shard float frames",
        "writer.add_shard(obs.astype(float), actions, states, starts)",
        "obs",
        WRITER,
    ),
    api(
        "add_shard episode_starts decreasing",
        "writer.add_shard(obs, actions, states, [0, 6, 3])",
        "episode_starts",
        WRITER,
    ),
    api(
        "new store without a frame shape",
        'from hjepa.data.store import TrajectoryWriter\nTrajectoryWriter("s", "hjepa/TwoRooms-v0")',
        "observation_shape",
    ),
    api(
        "TrajectoryStore on a missing folder", 'TrajectoryStore("nope_store")', "nope_store", STORE
    ),
    api(
        "TrajectoryStore with garbage meta.json",
        'TrajectoryStore("s")',
        "meta.json",
        STORE,
        setup=write("s/meta.json", "{garbage"),
    ),
    api(
        "TrajectoryStore with a malformed shard entry",
        'TrajectoryStore("s")',
        "meta.json",
        STORE,
        setup=write("s/meta.json", META),
    ),
    api("load_model on a missing folder", 'load_model("nope_export")', "nope_export", EXPORT),
    api(
        "load_model unknown model name",
        'load_model("e")',
        "config.json",
        EXPORT,
        setup=write("e/config.json", '{"name": "nope", "kwargs": {}}'),
    ),
    api(
        "load_model damaged weights",
        'load_model("runs/base/encoder")',
        "model.safetensors",
        EXPORT,
        setup=damage("runs/base/encoder/model.safetensors"),
        run=True,
    ),
    api(
        "build_planner unknown",
        'from hjepa.plan import build_planner\nbuild_planner("nope")',
        "nope",
    ),
    api(
        "build_planner samples=0",
        'from hjepa.plan import build_planner\nbuild_planner("cem", samples=0)',
        "samples",
    ),
    api(
        "load_policy unknown",
        'from hjepa.envs.policies import load_policy\nload_policy("nope")',
        "nope",
    ),
]

CASES = [*TRAIN_CASES, *COLLECT_CASES, *EVAL_CASES, *PLAN_CASES, *API_CASES]
