"""Tests for hjepa.nets: transformer blocks, ViT, predictor, conv nets, registry."""

import pytest
import torch

from hjepa.errors import ConfigError, ShapeError
from hjepa.nets import registry
from hjepa.nets.convnet import ConvDecoder, ConvEncoder
from hjepa.nets.mlp import MLP, MLPEncoder
from hjepa.nets.transformer import gather_tokens, sincos_pos_embed_1d, sincos_pos_embed_2d
from hjepa.nets.vit import PatchDecoder, TokenPredictor, VisionTransformer, patchify, unpatchify


def tiny_vit(**kw):
    args = dict(img_size=16, patch_size=4, in_chans=3, embed_dim=32, depth=2, num_heads=2)
    return VisionTransformer(**{**args, **kw})


def test_sincos_embeddings_shapes_and_distinct_rows():
    emb = sincos_pos_embed_2d(3, 4, 16)
    assert emb.shape == (12, 16)
    assert torch.cdist(emb, emb).add(torch.eye(12)).min() > 0  # every position is distinct
    assert sincos_pos_embed_1d(5, 8).shape == (5, 8)
    with pytest.raises(ConfigError):
        sincos_pos_embed_2d(2, 2, 6)


def test_gather_tokens_picks_per_sample_rows():
    x = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    idx = torch.tensor([[3, 0], [1, 1]])
    out = gather_tokens(x, idx)
    assert torch.equal(out[0, 0], x[0, 3]) and torch.equal(out[1, 1], x[1, 1])


def test_vit_shapes_with_and_without_keep():
    torch.manual_seed(0)
    vit = tiny_vit()
    assert vit.num_patches == 16 and vit.grid_size == (4, 4) and vit.num_features == 32
    x = torch.randn(2, 3, 16, 16)
    assert vit.forward_features(x).shape == (2, 16, 32)
    keep = torch.tensor([[0, 5, 7], [1, 2, 15]])
    assert vit.forward_features(x, keep).shape == (2, 3, 32)


def test_vit_keep_all_equals_full_forward():
    torch.manual_seed(0)
    vit = tiny_vit().eval()
    x = torch.randn(2, 3, 16, 16)
    keep = torch.arange(16).expand(2, -1)
    torch.testing.assert_close(vit(x, keep), vit(x))


def test_vit_keep_subset_differs_from_full_tokens():
    """Keeping tokens *before* the blocks changes attention, so outputs differ from a slice."""
    torch.manual_seed(0)
    vit = tiny_vit().eval()
    x = torch.randn(1, 3, 16, 16)
    keep = torch.tensor([[0, 3, 9]])
    assert not torch.allclose(vit(x, keep), vit(x)[:, [0, 3, 9]], atol=1e-4)


@pytest.mark.parametrize(
    "shape, keep, match",
    [
        ((2, 1, 16, 16), None, "channels"),
        ((2, 3, 12, 16), None, "spatial size"),
        ((3, 16, 16), None, "dimensions"),
        ((2, 3, 16, 16), torch.tensor([[0, 16], [1, 2]]), r"\[0, 16\)"),
        ((2, 3, 16, 16), torch.tensor([[0, -1], [1, 2]]), r"\[0, 16\)"),
        ((2, 3, 16, 16), torch.tensor([[0, 1]]), "batch size"),
        ((2, 3, 16, 16), torch.tensor([[0.0, 1.0], [1.0, 2.0]]), "long"),
    ],
)
def test_vit_rejects_bad_inputs(shape, keep, match):
    vit = tiny_vit()
    with pytest.raises(ShapeError, match=match):
        vit(torch.randn(*shape), keep)


def tiny_predictor(**kw):
    args = dict(num_patches=16, grid_size=(4, 4), in_dim=32, pred_dim=16, depth=1, num_heads=2)
    return TokenPredictor(**{**args, **kw})


def predictor_inputs(batch=2):
    ctx = torch.randn(batch, 5, 32)
    ctx_idx = torch.tensor([[0, 1, 2, 3, 4]] * batch)
    tgt_idx = torch.tensor([[10, 11, 14]] * batch)
    return ctx, ctx_idx, tgt_idx


def test_predictor_shape_and_gradients_reach_every_parameter():
    torch.manual_seed(0)
    pred = tiny_predictor(latent_dim=4)
    assert pred.num_features == 32
    ctx, ctx_idx, tgt_idx = predictor_inputs()
    out = pred(ctx, ctx_idx, tgt_idx, z=torch.randn(2, 4))
    assert out.shape == (2, 3, 32)
    out.square().mean().backward()
    for name, p in pred.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_predictor_depends_on_target_positions():
    torch.manual_seed(0)
    pred = tiny_predictor().eval()
    ctx, ctx_idx, _ = predictor_inputs(1)
    a = pred(ctx, ctx_idx, torch.tensor([[10]]))
    b = pred(ctx, ctx_idx, torch.tensor([[15]]))
    assert not torch.allclose(a, b)


def test_predictor_latent_validation():
    ctx, ctx_idx, tgt_idx = predictor_inputs()
    with pytest.raises(ShapeError, match="required"):
        tiny_predictor(latent_dim=4)(ctx, ctx_idx, tgt_idx)
    with pytest.raises(ShapeError, match="last dimension 4"):
        tiny_predictor(latent_dim=4)(ctx, ctx_idx, tgt_idx, z=torch.randn(2, 3))
    with pytest.raises(ShapeError, match="latent_dim=0"):
        tiny_predictor()(ctx, ctx_idx, tgt_idx, z=torch.randn(2, 4))
    with pytest.raises(ShapeError, match="ctx_idx has"):
        tiny_predictor()(ctx, ctx_idx[:, :4], tgt_idx)


def test_mlp_and_mlp_encoder():
    mlp = MLP(6, 16, 3, depth=3)
    assert mlp(torch.randn(4, 6)).shape == (4, 3)
    assert sum(isinstance(m, torch.nn.Linear) for m in mlp.modules()) == 3
    enc = MLPEncoder(6, 8, hidden_dim=16, depth=2)
    assert enc.num_features == 8 and enc.forward_features(torch.randn(4, 6)).shape == (4, 8)
    with pytest.raises(ShapeError):
        enc(torch.randn(4, 5))
    with pytest.raises(ConfigError, match="activation"):
        MLP(2, 2, 2, act="swish2")


def test_conv_encoder_and_decoder_shapes():
    enc = ConvEncoder(in_chans=3, img_size=16, channels=(8, 16), embed_dim=12)
    assert enc.num_features == 12
    z = enc.forward_features(torch.randn(2, 3, 16, 16))
    assert z.shape == (2, 12)
    dec = ConvDecoder(embed_dim=12, out_chans=3, img_size=16, channels=(16, 8))
    assert dec(z).shape == (2, 3, 16, 16)
    with pytest.raises(ShapeError):
        enc(torch.randn(2, 3, 8, 8))
    with pytest.raises(ConfigError):
        ConvDecoder(embed_dim=4, out_chans=3, img_size=18, channels=(8, 8))


def test_patchify_unpatchify_round_trip_and_layout():
    images = torch.randn(2, 3, 8, 12)
    patches = patchify(images, 4)
    assert patches.shape == (2, 6, 48)
    # Patch 1 is row 0, column 1; its first pixel is image[:, :, 0, 4] (channels last).
    torch.testing.assert_close(patches[:, 1, :3], images[:, :, 0, 4])
    assert torch.equal(unpatchify(patches, 4, 3, grid_size=(2, 3)), images)
    square = torch.randn(1, 1, 8, 8)
    assert torch.equal(unpatchify(patchify(square, 2), 2, 1), square)


def test_patch_decoder_shape():
    dec = PatchDecoder(in_dim=32, patch_size=4, out_chans=3)
    assert dec(torch.randn(2, 5, 32)).shape == (2, 5, 48)


def test_registry_builds_every_name():
    assert {"vit", "token_predictor", "mlp_encoder", "conv_encoder", "conv_decoder"} <= set(
        registry.available()
    )
    vit = registry.build("vit", img_size=16, patch_size=4, embed_dim=16, depth=1, num_heads=2)
    assert isinstance(vit, VisionTransformer) and vit.num_patches == 16
    assert isinstance(registry.build("patch_decoder", in_dim=8, patch_size=2), PatchDecoder)


def test_registry_errors_name_the_problem():
    with pytest.raises(ConfigError, match="available: .*vit"):
        registry.build("vitt")
    with pytest.raises(ConfigError, match="'embed_dimm'"):
        registry.build("vit", embed_dimm=16)
    with pytest.raises(ConfigError, match="in_dim"):
        registry.build("mlp_encoder", embed_dim=4)
    with pytest.raises(ConfigError, match="already registered"):
        registry.register("vit")(MLP)
