"""`Embedding`: a lookup table from integer ids to learned vectors."""
from .. import functional as F
from .checks import check_sizes
from .init import normal_
from .module import Module, settings_repr
from .parameter import empty_parameter


class Embedding(Module):
    """weight: (num_embeddings, embedding_dim) drawn from N(0, 1) as in PyTorch.
    Integer input of any shape (*) -> (*, embedding_dim). The row at padding_idx starts at
    zero and receives no gradient."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None):
        super().__init__()
        check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx={padding_idx} is out of range for "
                             f"num_embeddings={num_embeddings}")
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = empty_parameter(num_embeddings, embedding_dim)
        self.reset_parameters()

    def reset_parameters(self):
        normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{self.describe()}: expected integer indices, got dtype "
                            f"{indices.dtype}")
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        return settings_repr(self, positional=("num_embeddings", "embedding_dim"),
                             padding_idx=None)
