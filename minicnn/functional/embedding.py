"""Embedding: look up one row of a weight matrix per integer index (word or token vectors).

The lookup is integer indexing, y = weight[input], so its gradient is indexing's: a
scatter-add of dL/dy into the rows that were read, where rows read several times
accumulate every contribution (shape.py's Index and IndexBackward).
"""
from ..autograd import as_tensor
from ..autograd.tensor import as_array
from ..backend import array_module
from .elementwise import where
from .shape import index

__all__ = ["embedding"]


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
    rows = index(weight, indices)
    if padding_idx is None:
        return rows
    # The padding row's value is returned but passes no gradient: a detached copy at those
    # positions keeps it out of the scatter, as PyTorch keeps gw[padding_idx] = 0.
    not_padding = array_module(indices).expand_dims(indices != padding_idx, -1)
    return where(not_padding, rows, rows.detach())
