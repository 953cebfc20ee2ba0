"""NAS-RL's space and network builder: decoding a controller row, the canonical string, and
the paper's three rules for skip connections (Sect. 3.3) on sampled architectures."""

import random

import pytest
import torch

from common.errors import NasReproError
from reproductions.nas_rl.network import NasRlNet, output_sizes
from reproductions.nas_rl.space import Layer, NasRlArch, NasRlSpace


def random_row(space: NasRlSpace, depth: int, rng: random.Random) -> list[int]:
    row = []
    for i in range(depth):
        row += [rng.randrange(k) for k in space.layer_choices]
        row += [rng.randrange(2) for _ in range(i)]
    return row


def test_decode_reads_height_width_filters_then_skip_bits():
    space = NasRlSpace()
    # layer 0: 3x7/64 (reads the image); layer 1: 1x5/24, reads layer 0;
    # layer 2: 7x1/36, skip bits (0, 0): reads the image
    arch = space.decode([1, 3, 3, 0, 2, 0, 1, 3, 0, 1, 0, 0], depth=3)
    assert arch.layers == (Layer(3, 7, 64), Layer(1, 5, 24), Layer(7, 1, 36))
    assert arch.inputs == ((), (0,), ())
    assert str(arch) == "3x7/64|1x5/24<-0|7x1/36"
    assert arch.unused() == (1, 2)
    assert NasRlArch.from_spec(arch.to_spec()) == arch
    with pytest.raises(NasReproError):
        space.decode([0] * 11, depth=3)


def test_strides_are_decoded_when_predicted():
    space = NasRlSpace.make(strides=[1, 2, 3])
    assert space.layer_choices == [4, 4, 3, 3, 4]
    arch = space.decode([0, 0, 1, 2, 3], depth=1)
    assert arch.layers[0] == Layer(1, 1, 64, 2, 3)
    assert str(arch) == "1x1/64/s2x3"


def test_malformed_inputs_are_one_clear_error():
    with pytest.raises(NasReproError, match="earlier"):
        NasRlArch((Layer(3, 3, 24), Layer(3, 3, 24)), ((), (1,)))
    with pytest.raises(NasReproError):
        NasRlArch.from_spec({"layers": [[3, 3]]})


def test_unconnected_layers_read_the_image_and_unused_outputs_reach_the_classifier():
    arch = NasRlArch(
        (Layer(3, 3, 24), Layer(5, 1, 36), Layer(1, 3, 48), Layer(3, 3, 64)),
        ((), (), (0,), (2,)),
    )
    net = NasRlNet(arch)
    assert [conv[0].in_channels for conv in net.layers] == [3, 3, 24, 48]
    assert arch.unused() == (1, 3)  # layer 1 is read by nobody, layer 3 is the last
    assert net.out_channels == 36 + 64 and net.classifier.in_features == 100
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_padding_rule_zero_pads_the_smaller_map():
    # layer 1 (stride 2) gives 16x16, layer 0 32x32; layer 2 reads both: layer 1 is padded
    arch = NasRlArch((Layer(3, 3, 4), Layer(3, 3, 5, 2, 2), Layer(1, 1, 6)), ((), (0,), (0, 1)))
    assert output_sizes(arch, 32) == [(32, 32), (16, 16), (32, 32)]
    net = NasRlNet(arch).eval()
    seen = {}
    net.layers[2].register_forward_pre_hook(lambda m, args: seen.setdefault("x", args[0]))
    net(torch.randn(1, 3, 32, 32))
    x = seen["x"]
    assert x.shape == (1, 9, 32, 32)
    padded = x[0, 4:]  # layer 1's 5 channels, 16x16 placed at rows/cols 8..23
    assert padded[:, :8].abs().sum() == 0 and padded[:, 24:].abs().sum() == 0
    assert padded[:, :, :8].abs().sum() == 0 and padded[:, :, 24:].abs().sum() == 0
    assert padded[:, 8:24, 8:24].abs().sum() > 0


@pytest.mark.parametrize("strides", [None, (1, 2, 3)])
def test_sampled_architectures_build_and_use_every_layer(strides):
    space = NasRlSpace.make(filters=(4, 6, 8, 10), strides=strides)
    rng = random.Random(0)
    for depth in (1, 3, 6):
        for _ in range(5):
            arch = space.decode(random_row(space, depth, rng), depth)
            net = NasRlNet(arch)
            out = net(torch.randn(2, 3, 16, 16))
            assert out.shape == (2, 10)
            out.sum().backward()
            # every layer's output reaches the logits: each conv weight gets a gradient
            for i, conv in enumerate(net.layers):
                assert conv[0].weight.grad.abs().sum() > 0, (str(arch), i)
            sizes = output_sizes(arch, 16)
            assert net.features(torch.randn(1, 3, 16, 16)).shape[2:] == (
                max(sizes[i][0] for i in arch.unused()),
                max(sizes[i][1] for i in arch.unused()),
            )
