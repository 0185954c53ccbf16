"""Embedding: look up one row of a weight matrix per integer index (word or token vectors).

The lookup is a gather, y = weight[input]; its gradient is the opposite, a scatter-add of
dL/dy into the rows that were read. Rows read several times accumulate every contribution,
which is why the backward uses `add.at` and not `gw[input] += g` (that keeps only one).
"""
from ..autograd import Function, as_tensor
from ..autograd.tensor import as_array
from ..backend import array_module
from .elementwise import where

__all__ = ["embedding"]


class Embedding(Function):
    """y = weight[indices]: indices of any integer shape S, weight (V, D), y of shape S + (D,).

    dL/dweight = EmbeddingBackward: row v is the sum of dL/dy over the positions where
    indices == v, and 0 for v = padding_idx. The indices get no gradient.
    """

    def __init__(self, padding_idx):
        self.padding_idx = padding_idx

    def forward(self, indices, weight):
        return weight[indices]

    def backward(self, gy):
        indices, weight = self.inputs
        return None, EmbeddingBackward(weight.shape[0], self.padding_idx)(indices, gy)


class EmbeddingBackward(Function):
    """gw[v] = sum of g[n] over the positions n with indices[n] == v (gw[padding_idx] = 0).

    indices of shape S, g of shape S + (D,), gw of shape (V, D). It is linear in g, and its
    own backward is the lookup again: dL/dg[n] = dL/dgw[indices[n]] (0 at padding_idx).
    """

    def __init__(self, num_embeddings, padding_idx):
        self.num_embeddings, self.padding_idx = num_embeddings, padding_idx

    def forward(self, indices, g):
        xp = array_module(g)
        gw = xp.zeros((self.num_embeddings,) + g.shape[indices.ndim:], dtype=g.dtype)
        xp.add.at(gw, indices, g)
        if self.padding_idx is not None:
            gw[self.padding_idx] = 0
        return gw

    def backward(self, ggw):
        indices = self.inputs[0]
        looked_up = Embedding(None)(indices, ggw)
        if self.padding_idx is None:
            return None, looked_up
        not_padding = (indices.data != self.padding_idx)[..., None]
        return None, where(not_padding, looked_up, 0.0)


def embedding(input, weight, padding_idx=None):
    """Rows of `weight` (V, D) at the integer indices `input`; output shape input.shape + (D,).

    padding_idx (may be negative, counted from V) names a row whose gradient is always 0,
    as in PyTorch: it stays at its initial value (usually zeros) during training.
    """
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: 'weight' must be 2-d (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    count = weight.shape[0]
    indices = as_array(input, like=weight.data)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: 'input' must be an integer tensor of indices, got dtype "
                        f"{indices.dtype}")
    wrong = (indices < 0) | (indices >= count)
    if bool(wrong.any()):
        position = tuple(int(i) for i in array_module(indices).argwhere(wrong)[0])
        raise IndexError(f"embedding: index {int(indices[position])} is out of range for "
                         f"{count} embeddings (at position {position} of 'input')")
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for {count} "
                             "embeddings")
        padding_idx %= count
    return Embedding(padding_idx)(indices, weight)
