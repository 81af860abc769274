import pytest
import torch

from srlib.models import SRNDeblur, build_model, count_parameters


@pytest.mark.parametrize("recurrent", ["convlstm", "conv"])
def test_three_scales_coarse_to_fine_any_size(recurrent):
    torch.manual_seed(0)
    model = SRNDeblur(num_feat=8, num_res=1, recurrent=recurrent)
    x = torch.rand(2, 3, 50, 37)
    outputs = model.forward_scales(x)
    assert [tuple(o.shape[-2:]) for o in outputs] == [(12, 9), (25, 18), (50, 37)]
    assert torch.equal(model(x), outputs[-1])


def test_gradients_reach_every_parameter_and_weights_are_shared_across_scales():
    torch.manual_seed(0)
    model = SRNDeblur(num_feat=8, num_res=1)
    loss = sum(o.mean() for o in model.forward_scales(torch.rand(1, 3, 64, 64)))
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    # one set of weights whatever the number of scales
    assert count_parameters(SRNDeblur(num_feat=8, num_res=1, num_scales=2)) == count_parameters(model)


def test_the_hidden_state_carries_information_between_scales():
    torch.manual_seed(0)
    model = SRNDeblur(num_feat=8, num_res=1)
    x = torch.rand(1, 3, 64, 64)
    y = x.clone()
    y[..., :32, :] = torch.rand(1, 3, 32, 64)  # change only the top half
    with torch.no_grad():
        a, b = model(x), model(y)
    # the bottom rows change too: information travelled through the coarser scales and the recurrence
    assert (a[..., 48:, :] - b[..., 48:, :]).abs().max() > 1e-6


def test_builder_presets_and_scale_check():
    assert isinstance(build_model("srn_deblur_small", scale=1), SRNDeblur)
    assert count_parameters(build_model("srn_deblur")) > count_parameters(build_model("srn_deblur_small"))
    with pytest.raises(ValueError, match="scale must be 1"):
        build_model("srn_deblur", scale=4)
