"""`Linear`: y = x W^T + b, the fully connected layer."""
from .. import functional as F
from .checks import check_sizes
from .init import default_init_
from .module import Module
from .parameter import empty_parameter


class Linear(Module):
    """y = x @ weight.T + bias.   x: (*, in_features) -> y: (*, out_features).

    weight: (out_features, in_features), bias: (out_features,), both initialised from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) as in PyTorch.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = empty_parameter(out_features, in_features)
        self.bias = empty_parameter(out_features) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        default_init_(self.weight, self.bias)

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self.describe()}: expected input with last dimension "
                             f"{self.in_features}, got shape {tuple(x.shape)}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}" + ("" if self.bias is not None
                                                             else ", bias=False")
