"""Layers that only rearrange or resize: Identity, Flatten, Upsample."""
from .. import functional as F
from .module import Module, settings_repr


class Identity(Module):
    """Returns its input; a placeholder, e.g. to remove a model's classifier head."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return settings_repr(self, start_dim=1, end_dim=-1)


class Upsample(Module):
    """Resize images to `size` or by `scale_factor` (see functional.interpolate)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        return settings_repr(self, "mode", size=None, scale_factor=None, align_corners=None)
