"""`minicnn.nn.functional` is `minicnn.functional`, under PyTorch's name for it, so that
`import minicnn.nn.functional as F` works as `import torch.nn.functional as F` does."""
from ..functional import *  # noqa: F401,F403
from ..functional import __all__  # noqa: F401
