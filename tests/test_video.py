"""Tests for the video (V-JEPA) pieces: tube and future-frame masks, the video ViT and the 3-D
predictor, MaskedJEPA on clips, the moving-objects set and the clip-folder loader."""

import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from hjepa.errors import ConfigError, DataError, ShapeError
from hjepa.jepa.model import MaskedJEPA
from hjepa.jepa.video_masks import FutureFrameMasker, TubeMasker
from hjepa.modalities.video import (
    DIRECTION_NAMES,
    FACTOR_NAMES,
    SHAPE_NAMES,
    MovingObjectsDataset,
    bounce,
)
from hjepa.modalities.video_files import VideoFolderDataset
from hjepa.nets import registry
from hjepa.nets.transformer import sincos_pos_embed, sincos_pos_embed_1d, sincos_pos_embed_2d
from hjepa.nets.video_vit import VideoVisionTransformer
from hjepa.nets.vit import TokenPredictor

GRID = (4, 6, 6)  # (T', H', W')


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def tiny_video_vit(**kw):
    args = dict(img_size=16, num_frames=4, patch_size=4, tubelet=2, in_chans=3, embed_dim=24)
    return VideoVisionTransformer(**{**args, "depth": 1, "num_heads": 2, **kw})


def tubes(idx: list[int], grid=GRID) -> dict[int, set[int]]:
    """Token indices -> {spatial cell: the time steps it appears at}."""
    cells = grid[1] * grid[2]
    found: dict[int, set[int]] = {}
    for token in idx:
        found.setdefault(token % cells, set()).add(token // cells)
    return found


# --- masks ---


@pytest.mark.parametrize("group", [0, 1])
def test_tube_masks_are_disjoint_sorted_full_tubes(group):
    masker = TubeMasker(GRID, min_context=2)
    n, g = math.prod(GRID), gen()
    for _ in range(5):
        ctx, tgt = masker.sample_group(8, group, g)
        assert ctx.dtype == tgt.dtype == torch.long and ctx.shape[0] == tgt.shape[0] == 8
        assert ctx.shape[1] % GRID[0] == 0 and tgt.shape[1] % GRID[0] == 0
        assert ctx.shape[1] >= 2 * GRID[0]  # min_context cells, every time step
        assert int(torch.cat([ctx, tgt], 1).min()) >= 0 and int(torch.cat([ctx, tgt], 1).max()) < n
        assert torch.all(ctx[:, 1:] > ctx[:, :-1]) and torch.all(tgt[:, 1:] > tgt[:, :-1])
        for c, t in zip(ctx.tolist(), tgt.tolist(), strict=True):
            assert not set(c) & set(t)
            for steps in [*tubes(c).values(), *tubes(t).values()]:
                assert steps == set(range(GRID[0]))  # every tube spans all time steps


def test_single_clip_targets_are_the_union_of_blocks_and_context_the_rest():
    masker = TubeMasker(GRID, small_blocks=3, small_scale=(0.1, 0.2), large_blocks=0)
    ctx, tgt = masker.sample(1, gen(4))
    assert ctx.shape[1] + tgt.shape[1] == math.prod(GRID)  # nothing trimmed with one clip
    cells = sorted(tubes(tgt[0].tolist()))
    assert 0 < len(cells) <= 3 * round(0.2 * 36 * 1.5)


def test_tube_masks_seeded_and_both_groups_used():
    masker = TubeMasker(GRID)
    a, b, c = (masker.sample(4, gen(s)) for s in (1, 1, 2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not (torch.equal(a[0], c[0]) and torch.equal(a[1], c[1]))
    one_small = TubeMasker(GRID, small_blocks=1, small_scale=(0.1, 0.1))
    g = gen()
    target_share = {one_small.sample(4, g)[1].shape[1] / math.prod(GRID) for _ in range(20)}
    assert min(target_share) < 0.3 < max(target_share)  # both groups are drawn


def test_tube_masker_rejects_bad_settings():
    with pytest.raises(ConfigError, match="grid_size"):
        TubeMasker((6, 6))
    with pytest.raises(ConfigError, match="small_blocks or large_blocks"):
        TubeMasker(GRID, small_blocks=0, large_blocks=0)
    with pytest.raises(ConfigError, match="large_blocks"):
        TubeMasker(GRID, large_blocks=-1)
    with pytest.raises(ConfigError, match="mask group"):
        TubeMasker(GRID, large_blocks=0).sample_group(2, 1, gen())
    with pytest.raises(ConfigError, match="batch_size"):
        TubeMasker(GRID).sample(0, gen())


def test_future_frame_masks_split_at_the_context_frames():
    ctx, tgt = FutureFrameMasker(GRID, context_frames=3).sample(2, gen())
    assert torch.equal(ctx, torch.arange(3 * 36).expand(2, -1))
    assert torch.equal(tgt, torch.arange(3 * 36, 4 * 36).expand(2, -1))
    for bad in (0, 4, True):
        with pytest.raises(ConfigError, match="context_frames"):
            FutureFrameMasker(GRID, context_frames=bad)


# --- nets ---


def test_3d_sincos_embedding_splits_features_by_axis():
    emb = sincos_pos_embed((2, 3, 4), 12)
    assert emb.shape == (24, 12)
    assert torch.cdist(emb, emb).add(torch.eye(24)).min() > 0  # every position is distinct
    t, h, w = 1, 2, 3
    row = emb[t * 12 + h * 4 + w]
    for part, pos in enumerate((t, h, w)):
        torch.testing.assert_close(row[4 * part : 4 * part + 4], sincos_pos_embed_1d(5, 4)[pos])
    assert torch.equal(sincos_pos_embed((3, 4), 16), sincos_pos_embed_2d(3, 4, 16))
    with pytest.raises(ConfigError, match="divisible by 6"):
        sincos_pos_embed((2, 3, 4), 16)


def test_video_vit_shapes_keep_and_registry():
    torch.manual_seed(0)
    vit = tiny_video_vit().eval()
    assert vit.grid_size == (2, 4, 4) and vit.num_patches == 32 and vit.num_features == 24
    assert vit.embed_dim == 24 and vit.patch_size == 4 and vit.tubelet == 2
    x = torch.randn(2, 3, 4, 16, 16)
    assert vit.forward_features(x).shape == (2, 32, 24)
    keep = torch.tensor([[0, 5, 31], [1, 2, 3]])
    assert vit.forward_features(x, keep).shape == (2, 3, 24)
    torch.testing.assert_close(vit(x, torch.arange(32).expand(2, -1)), vit(x))
    built = registry.build("video_vit", img_size=16, num_frames=4, embed_dim=12, num_heads=2)
    assert isinstance(built, VideoVisionTransformer) and built.grid_size == (2, 4, 4)


def test_video_tokens_are_row_major_over_time_rows_columns():
    vit = tiny_video_vit()
    x = torch.zeros(1, 3, 4, 16, 16)
    y = x.clone()
    y[:, :, 2:4, 8:12, 12:16] = 1.0  # tubelet at time 1, row 2, column 3
    changed = (vit.patch_tokens(y) - vit.patch_tokens(x)).abs().sum(-1)[0]
    assert torch.nonzero(changed).flatten().tolist() == [1 * 16 + 2 * 4 + 3]


@pytest.mark.parametrize(
    "shape, match",
    [((2, 3, 4, 16), "dimensions"), ((2, 1, 4, 16, 16), "C, T, H, W"), ((2, 3, 6, 16, 16), "6")],
)
def test_video_vit_rejects_bad_input(shape, match):
    with pytest.raises(ShapeError, match=match):
        tiny_video_vit()(torch.randn(*shape))


def test_video_vit_rejects_bad_settings():
    with pytest.raises(ConfigError, match="tubelets"):
        tiny_video_vit(num_frames=5)
    with pytest.raises(ConfigError, match="divisible by 6"):
        tiny_video_vit(embed_dim=16)
    with pytest.raises(ConfigError, match="tubelet"):
        tiny_video_vit(tubelet=0)


def test_predictor_on_a_3d_grid():
    torch.manual_seed(0)
    pred = TokenPredictor(num_patches=32, grid_size=(2, 4, 4), in_dim=24, pred_dim=12, num_heads=2)
    assert pred.grid_size == (2, 4, 4) and pred.pos_embed.shape == (1, 32, 12)
    ctx, ctx_idx = torch.randn(2, 5, 24), torch.tensor([[0, 1, 2, 3, 4]] * 2)
    a = pred(ctx, ctx_idx, torch.tensor([[16, 20]] * 2))
    b = pred(ctx, ctx_idx, torch.tensor([[0, 20]] * 2))
    assert a.shape == (2, 2, 24) and not torch.allclose(a[:, 0], b[:, 0])
    with pytest.raises(ConfigError, match="num_patches"):
        TokenPredictor(num_patches=30, grid_size=(2, 4, 4), in_dim=24, pred_dim=12)


def test_masked_jepa_trains_on_tube_masks_with_l1():
    torch.manual_seed(0)
    encoder = tiny_video_vit()
    predictor = TokenPredictor(32, encoder.grid_size, 24, pred_dim=12, depth=1, num_heads=2)
    model = MaskedJEPA(encoder, predictor, target="ema", loss="l1", input_key="video")
    ctx, tgt = TubeMasker(encoder.grid_size, small_scale=(0.1, 0.2), min_context=2).sample(3, gen())
    video = MovingObjectsDataset(3, frames=4, image_size=16)[0]["video"]
    batch = {"video": video.expand(3, -1, -1, -1, -1), "context_idx": ctx, "target_idx": tgt}
    loss, metrics = model(batch)
    assert torch.isfinite(loss) and "pred_loss" in metrics
    loss.backward()
    assert encoder.patch_embed.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.target.parameters())
    model.update_target(1, 10)
    assert model.representations(batch).shape == (3, 24)


# --- procedural clips ---


def test_bounce_stays_inside_and_counts_wall_hits():
    start, step, low = np.array([0.5, 0.2, 0.7]), np.array([0.13, -0.045, 0.0]), np.full(3, 0.1)
    positions, hits = bounce(start, step, low, frames=20)
    assert positions.shape == (20, 3)
    assert positions.min() >= 0.1 - 1e-9 and positions.max() <= 0.9 + 1e-9
    moves = np.diff(positions, axis=0)
    turns = np.sum(np.sign(moves[1:]) * np.sign(moves[:-1]) < 0, axis=0)
    assert hits.tolist() == [3, 1, 0] and (turns <= hits).all()  # a hit may fall on a frame
    np.testing.assert_allclose(np.abs(moves).max(axis=0), [0.13, 0.045, 0.0], atol=1e-9)


def test_moving_objects_items_are_deterministic_and_in_range():
    data = MovingObjectsDataset(50, frames=8, image_size=32, seed=3, distractors=2)
    assert len(data) == 50 and data.num_classes == len(data.class_names) == len(SHAPE_NAMES)
    assert data.factor_names == FACTOR_NAMES
    item = data[7]
    again = MovingObjectsDataset(50, frames=8, image_size=32, seed=3, distractors=2)[7]
    assert torch.equal(item["video"], again["video"])
    assert torch.equal(item["factors"], again["factors"])
    other = MovingObjectsDataset(50, frames=8, seed=3, distractors=2, split="test")[7]
    assert not torch.equal(item["video"], other["video"])
    assert item["video"].shape == (3, 8, 32, 32) and item["video"].dtype == torch.float32
    assert item["factors"].shape == (len(FACTOR_NAMES),) and item["factors"].dtype == torch.float32
    for i in range(50):
        x = data[i]
        speed, sin, cos, hits = x["factors"].tolist()
        assert float(x["video"].min()) >= -1.0 and float(x["video"].max()) <= 1.0
        assert 0 <= x["label"] < 4 and x["index"] == i
        assert 1.0 <= speed <= 3.0 and hits == int(hits) and hits >= 0
        assert sin * sin + cos * cos == pytest.approx(1.0, abs=1e-5)
        bin_angle = 2 * math.pi * x["direction_class"] / len(DIRECTION_NAMES)
        assert math.cos(math.atan2(sin, cos) - bin_angle) >= math.cos(math.pi / 8) - 1e-6
        assert float((x["video"][:, -1] - x["video"][:, 0]).abs().max()) > 0.5  # it moves


def test_moving_objects_cover_classes_and_directions():
    data = MovingObjectsDataset(200, frames=4, image_size=16)
    items = [data[i] for i in range(200)]
    assert {x["label"] for x in items} == set(range(4))
    assert {x["direction_class"] for x in items} == set(range(8))
    assert {int(x["factors"][3]) for x in items} >= {0, 1}


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"frames": 1}, "frames"),
        ({"split": "val"}, "split"),
        ({"speed": (2.0, 1.0)}, "speed"),
        ({"speed": 2.0}, "speed"),
        ({"speed": (1.0, math.inf)}, "speed"),
    ],
)
def test_moving_objects_rejects_bad_settings(kw, match):
    with pytest.raises(ConfigError, match=match):
        MovingObjectsDataset(**kw)


# --- clip folders ---


def frames_of(count, size=(8, 8), channels=3):
    """[count, H, W, C] uint8 frames whose value encodes the frame number."""
    values = (np.arange(count) * 20).astype(np.uint8)
    return np.broadcast_to(values[:, None, None, None], (count, *size, channels)).copy()


def write_frame_folder(folder, frames):
    folder.mkdir(parents=True)
    for k, frame in enumerate(frames):
        Image.fromarray(frame.squeeze(-1) if frame.shape[-1] == 1 else frame).save(
            folder / f"f{k:03d}.png"
        )


def write_video(path, frames):
    """An MPEG-4 video of RGB frames [T, H, W, 3] (H, W even)."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def test_frame_folders_and_gifs_round_trip(tmp_path):
    write_frame_folder(tmp_path / "cat" / "clip_a", frames_of(10))
    (tmp_path / "dog").mkdir()
    images = [Image.fromarray(f) for f in frames_of(7)]
    images[0].save(tmp_path / "dog" / "b.gif", save_all=True, append_images=images[1:], loop=0)
    data = VideoFolderDataset(tmp_path, frames=3, frame_size=8, frame_step=2)
    assert data.class_names == ("cat", "dog") and data.num_classes == 2 and len(data) == 2
    clip = data[0]
    assert clip["video"].shape == (3, 3, 8, 8) and clip["label"] == 0
    # 10 frames, span 5, start (10 - 5) // 2 = 2: frames 2, 4, 6
    expected = torch.tensor([2, 4, 6]) * 20 / 255 * 2 - 1
    torch.testing.assert_close(clip["video"][0, :, 0, 0], expected.float())
    gif = data[1]
    assert gif["label"] == 1  # 7 frames, start 1: frames 1, 3, 5
    torch.testing.assert_close(gif["video"][1, :, 4, 4], (torch.tensor([1, 3, 5]) * 40 / 255 - 1))
    fixed = VideoFolderDataset(tmp_path, frames=3, frame_size=8, class_names=["dog", "cat", "x"])
    labels = {
        clip.parent.name: label for clip, label in zip(fixed.clips, fixed.labels, strict=True)
    }
    assert labels == {"dog": 0, "cat": 1}


def test_grey_frames_and_video_files(tmp_path):
    write_frame_folder(tmp_path / "a" / "grey", frames_of(4, channels=1))
    data = VideoFolderDataset(tmp_path, frames=4, frame_size=8, channels=1)
    assert data[0]["video"].shape == (1, 4, 8, 8)
    for suffix in (".mp4", ".avi"):
        write_video(tmp_path / "a" / f"v{suffix}", frames_of(6, (16, 16)))
    (tmp_path / "a" / "grey").rename(tmp_path / ".hidden")
    data = VideoFolderDataset(tmp_path, frames=4, frame_size=16)
    assert len(data) == 2
    for i in range(2):
        got = data[i]["video"][0, :, 8, 8]  # frames 1..4 of 6, lossy codec
        torch.testing.assert_close(
            got, torch.tensor([1, 2, 3, 4]) * 40 / 255 - 1, atol=0.05, rtol=0
        )
    (tmp_path / "a" / "broken.mp4").write_bytes(b"\0" * 64)
    with pytest.raises(DataError, match=r"broken\.mp4: not a readable video file"):
        VideoFolderDataset(tmp_path, frames=4, frame_size=16)


def test_video_files_without_the_extra_name_it(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "v.mp4").write_bytes(b"\0" * 64)
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ConfigError, match=r"hjepa\[video\]"):
        VideoFolderDataset(tmp_path)


def test_bad_clips_are_named(tmp_path):
    def check(match, **kw):
        with pytest.raises(DataError, match=match):
            VideoFolderDataset(tmp_path / "root", **{"frames": 4, "frame_size": 8, **kw})

    check("no such folder")
    root = tmp_path / "root"
    write_frame_folder(root / "c" / "short", frames_of(3))
    check(r"short: 3 frames, fewer than the 4")
    check("need", frame_step=2)
    (root / "c" / "short" / "f003.png").write_bytes(b"not a png")
    check(r"f003\.png: not a readable image")
    Image.fromarray(frames_of(1, (8, 9))[0]).save(root / "c" / "short" / "f003.png")
    check(r"f003\.png: frame of size \(8, 9\)")
    Image.fromarray(frames_of(1)[0, :, :, 0]).save(root / "c" / "short" / "f003.png")
    check(r"f003\.png: frame of size \(8, 8\) with 1 channel")
    Image.fromarray(frames_of(1)[0]).save(root / "c" / "short" / "f003.png")
    VideoFolderDataset(root, frames=4, frame_size=8)  # repaired
    (root / "c" / "short" / "notes.txt").write_text("x")
    check(r"notes\.txt: not a frame image")
    (root / "c" / "short" / "notes.txt").unlink()
    (root / "c" / "clip.gif").write_bytes(b"GIF89a broken")
    check(r"clip\.gif: not a readable GIF")
    (root / "c" / "clip.gif").unlink()
    (root / "c" / "labels.csv").write_text("x")
    check(r"labels\.csv: not a clip")
    (root / "c" / "labels.csv").unlink()
    check(r"class folders \['c'\] are not in class_names", class_names=["d"])
    with pytest.raises(ConfigError, match="frames"):
        VideoFolderDataset(root, frames=0)
