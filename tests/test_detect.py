"""Reading a network's architecture off its weights (srlib.models.detect), on synthetic state dicts of every
layout: ESRGAN's two releases, BasicSR / Real-ESRGAN (x4, and the pixel-unshuffle x2 / x1), sub-pixel
RRDBNets and the course's other families."""

import pytest
import torch

from srlib.models import CheckpointError, RRDBNet, build_model
from srlib.models.detect import model_for_weights, rrdbnet_arguments
from tests.test_models import esrgan_2020, esrgan_original

SMALL = {"num_feat": 16, "num_block": 2, "num_grow_ch": 8}


def same_outputs(a, b, size=12) -> bool:
    x = torch.rand(1, 3, size, size)
    with torch.no_grad():
        return torch.equal(a.eval()(x), b.eval()(x))


@pytest.mark.parametrize("scale, extra", [(4, {}), (2, {"unshuffle": 2}), (1, {"unshuffle": 4}),
                                          (4, {"upsampler": "pixelshuffle"}), (3, {"upsampler": "pixelshuffle"}),
                                          (8, {})])
def test_rrdbnet_sizes_scale_and_layout_are_read_off(scale, extra):
    torch.manual_seed(0)
    source = RRDBNet(scale=scale, **SMALL, **extra)
    model, found, description = model_for_weights(source.state_dict())
    assert found == scale and description.startswith(f"RRDBNet x{scale}")
    arguments = rrdbnet_arguments(source.state_dict())[0]
    assert {k: arguments[k] for k in SMALL | extra} == SMALL | extra
    assert same_outputs(source, model, size=13)  # 13: the unshuffle layouts pad odd sizes


@pytest.mark.parametrize("writer", [esrgan_2020, lambda s: esrgan_original(s, 2)])
def test_esrgan_release_layouts_are_recognised(writer):
    source = RRDBNet(**SMALL)
    model, scale, _ = model_for_weights(writer(source.state_dict()))
    assert scale == 4 and same_outputs(source, model)


def test_nearest_x2_and_x3_need_the_scale_and_a_wrong_one_is_refused():
    state = RRDBNet(scale=2, **SMALL).state_dict()
    with pytest.raises(CheckpointError, match="fit x2 and x3 alike.*--scale"):
        model_for_weights(state)
    assert model_for_weights(state, 3)[1] == 3
    with pytest.raises(CheckpointError, match="for x2 or x3, not x4"):
        model_for_weights(state, 4)


@pytest.mark.parametrize("name, scale", [("srresnet", 4), ("srresnet_nobn", 2), ("edsr_small", 3),
                                         ("rdn_small", 4), ("wdsr_a_small", 2)])
def test_the_course_families_are_found_among_the_presets(name, scale):
    torch.manual_seed(0)
    source = build_model(name, scale=scale)
    model, found, description = model_for_weights(source.state_dict())
    assert (found, description.split()[0]) == (scale, name) and same_outputs(source, model)


def test_unknown_weights_name_the_families_tried_and_the_closest():
    state = build_model("edsr_small", scale=4).state_dict()
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"fit no known network: tried RRDBNet.*srresnet.*closest: edsr_small x4 "
                                              r"\(1 names or shapes differ\)"):
        model_for_weights(state)


def test_weights_of_another_scale_say_their_scale():
    state = build_model("edsr_small", scale=2).state_dict()
    with pytest.raises(CheckpointError, match=r"these are x2 weights \(edsr_small x2.*\), not x3"):
        model_for_weights(state, 3)


@pytest.mark.parametrize("content, said", [
    (b"<!DOCTYPE html><html>sign in</html>", "HTML or XML page"),
    (b"PK\x03\x04" + bytes(100), "zip archive that is not a whole torch file"),
    (b"just some text", "not a weights file"),
])
def test_a_file_that_is_not_weights_is_named_in_one_line_without_unsafe_advice(tmp_path, content, said):
    from srlib.models.weights import read_weights

    (tmp_path / "model.pth").write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        read_weights(tmp_path / "model.pth")
    message = str(caught.value)
    assert said in message and "\n" not in message and "weights_only=False" not in message


def test_a_pickle_with_objects_is_refused_as_such(tmp_path):
    import argparse

    from srlib.models.weights import read_weights

    torch.save({"w": torch.ones(1), "extra": argparse.Namespace(a=1)}, tmp_path / "code.pth")
    with pytest.raises(CheckpointError, match="Python objects beyond tensors"):
        read_weights(tmp_path / "code.pth")
