import pytest
import torch

from hjepa.errors import ActionError, ConfigError, ShapeError
from hjepa.nets.frame_encoder import FrameEncoder
from hjepa.world.model import WorldModel
from hjepa.world.predictors import PREDICTORS


def make_model(predictor="mlp", **kwargs):
    """A tiny world model; the conv predictor gets a map state of 2 channels x 4 x 4 cells."""
    maps = 2 if predictor == "conv" else 0
    encoder = FrameEncoder(2, img_size=16, pool=1, channels=(4, 8), embed_dim=8, map_channels=maps)
    return WorldModel(encoder, action_dim=2, predictor=predictor, hidden=16, depth=2, **kwargs)


def batch(b=3, t=5):
    gen = torch.Generator().manual_seed(0)
    return {
        "obs": torch.rand(b, t, 2, 16, 16, generator=gen),
        "actions": torch.randn(b, t - 1, 2, generator=gen),
    }


@pytest.mark.parametrize("predictor", sorted(PREDICTORS))
def test_rollout_shapes_and_teacher_forcing_agree(predictor):
    model = make_model(predictor)
    for p in model.predictor.parameters():  # leave the zero-init identity so outputs differ
        torch.nn.init.normal_(p, std=0.1)
    data, dim = batch(), model.encoder.num_features
    s = model.encode(data["obs"])
    assert s.shape == (3, 5, dim)
    a = model.embed_actions(data["actions"])
    rolled = model.rollout(s[:, 0], data["actions"])
    assert rolled.shape == (3, 4, dim)
    # one step of the rollout is the teacher-forced prediction from the observed first state
    forced = model.predictor(s[:, :1], a[:, :1])
    assert torch.allclose(rolled[:, 0], forced[:, 0], atol=1e-5)


def test_transformer_is_causal_over_frames():
    model = make_model("transformer")
    for p in model.predictor.parameters():
        torch.nn.init.normal_(p, std=0.1)
    s, a = torch.randn(2, 6, 8), torch.randn(2, 6, 16)
    out = model.predictor(s, a)
    a2 = a.clone()
    a2[:, 4:] += 1.0
    out2 = model.predictor(s, a2)
    assert torch.allclose(out[:, :4], out2[:, :4], atol=1e-6)
    assert not torch.allclose(out[:, 4:], out2[:, 4:])


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"regularizer": "sigreg", "latent_dim": 3},
        {"target": "ema", "regularizer": "none"},
    ],
)
def test_every_learnable_part_gets_a_gradient(kwargs):
    model = make_model("gru", **kwargs)
    if model.latent is not None:  # its zero-initialised output layer would block the gradient
        for p in model.latent.parameters():
            torch.nn.init.normal_(p, std=0.1)
    loss, metrics = model(batch())
    assert torch.isfinite(loss) and "rollout_loss" in metrics and "inverse_loss" in metrics
    loss.backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert name.startswith("target."), name


def test_bad_inputs_are_named():
    model = make_model()
    data = batch()
    with pytest.raises(ShapeError, match="actions"):
        model({"obs": data["obs"], "actions": data["actions"][:, :2]})
    with pytest.raises(ShapeError, match="actions"):
        model.embed_actions(torch.zeros(3, 4, 3))
    with pytest.raises(ShapeError, match="rollout"):
        model.rollout(torch.zeros(3, 8), torch.zeros(3, 2))
    with pytest.raises(ShapeError, match="frames"):
        model.encode(torch.zeros(3, 2, 8, 8))
    with pytest.raises(ShapeError, match="NaN"):
        model.embed_actions(torch.full((3, 2), float("nan")))
    assert issubclass(ActionError, ValueError)


def test_per_channel_encoder_keeps_channels_apart():
    from hjepa.nets.frame_encoder import PerChannelEncoder

    enc = PerChannelEncoder(in_chans=2, img_size=16, pool=1, channels=(4, 8), embed_dim=8)
    x = torch.rand(3, 2, 16, 16)
    y = x.clone()
    y[:, 1] = torch.rand(3, 16, 16)  # change only the second channel
    a, b = enc(x), enc(y)
    assert a.shape == (3, 8)
    assert torch.equal(a[:, :4], b[:, :4]) and not torch.allclose(a[:, 4:], b[:, 4:])


def test_scene_agent_encoder_reads_the_scene_in_its_first_part_only():
    from hjepa.nets.frame_encoder import SceneAgentEncoder

    enc = SceneAgentEncoder(in_chans=2, img_size=16, pool=1, channels=(4, 8), embed_dim=8)
    x = torch.rand(3, 2, 16, 16)
    walls_changed, agent_changed = x.clone(), x.clone()
    walls_changed[:, 1] = torch.rand(3, 16, 16)
    agent_changed[:, 0] = torch.rand(3, 16, 16)
    a, w, g = enc(x), enc(walls_changed), enc(agent_changed)
    assert not torch.allclose(a[:, :4], w[:, :4])  # the agent's part sees the walls
    assert torch.equal(a[:, 4:], g[:, 4:])  # the walls' part never sees the agent


def test_a_map_state_cell_describes_mostly_its_part_of_the_frame():
    torch.manual_seed(0)
    enc = FrameEncoder(2, img_size=16, pool=1, channels=(4, 8), map_channels=3)
    assert enc.feature_shape == (3, 4, 4) and enc.num_features == 48
    x = torch.rand(4, 2, 16, 16)
    y = x.clone()
    y[..., :4, :4] = torch.rand(4, 2, 4, 4)  # the top-left cell only
    change = (enc(x) - enc(y)).reshape(4, 3, 4, 4).abs().mean(dim=(0, 1))
    # far cells move only through GroupNorm's statistics, which span the whole map
    assert change[2:, 2:].max() < 0.5 * change[0, 0]


def test_the_conv_predictor_starts_as_nothing_moves_and_needs_a_map_state():
    model = make_model("conv")
    s0 = torch.randn(3, model.encoder.num_features)
    rolled = model.rollout(s0, torch.randn(3, 4, 2))
    assert torch.equal(rolled, s0[:, None].expand(-1, 4, -1))
    with pytest.raises(ConfigError, match="world.map_channels > 0"):
        WorldModel(FrameEncoder(2, 16, 1, (4, 8), embed_dim=8), action_dim=2, predictor="conv")


def test_map_states_are_for_the_cnn_encoder_only():
    from hjepa.config import load_config
    from hjepa.experiment import build_model

    overrides = ["world.map_channels=4", "world.encoder=per_channel_cnn"]
    with pytest.raises(ConfigError, match="world.map_channels is for world.encoder=cnn"):
        build_model(load_config("configs/two_rooms.yaml", overrides))
