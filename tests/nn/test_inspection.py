"""frozen_eval: eval mode and frozen weights inside the block, each module's mode and each
parameter's requires_grad restored after it, also when the block raises."""
import warnings

import pytest

from minicnn import nn


def _model():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model[2].eval()                       # a mixed state: one module already in eval mode
    model[3].bias.requires_grad = False   # and one parameter already frozen
    return model


def _state(model):
    return ([module.training for module in model.modules()],
            [parameter.requires_grad for parameter in model.parameters()])


def test_inside_the_block_the_model_is_in_eval_mode_and_frozen():
    model = _model()
    with pytest.warns(UserWarning, match="explain: the model is in training mode"):
        with nn.frozen_eval(model, "explain"):
            assert not any(module.training for module in model.modules())
            assert not any(parameter.requires_grad for parameter in model.parameters())


def test_every_mode_and_flag_comes_back_as_it_was():
    model = _model()
    before = _state(model)
    with pytest.warns(UserWarning):
        with nn.frozen_eval(model, "explain"):
            pass
    assert _state(model) == before


def test_an_error_inside_the_block_still_restores_the_model():
    model = _model()
    before = _state(model)
    with pytest.warns(UserWarning), pytest.raises(ZeroDivisionError):
        with nn.frozen_eval(model, "explain"):
            1 / 0
    assert _state(model) == before


def test_a_model_already_in_eval_mode_gets_no_warning():
    model = _model().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with nn.frozen_eval(model, "explain"):
            pass
    assert not model.training
