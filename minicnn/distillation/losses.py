"""Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a
Neural Network").

A trained teacher's probabilities carry more than its top class: which wrong classes it
finds plausible. Softened by a temperature T, p = softmax(t / T), they become a target for
the student's q = softmax(s / T):

    loss = alpha * T^2 * KL(p || q)  +  (1 - alpha) * cross_entropy(s, labels)

with KL averaged over the batch. The T^2 keeps the soft part's gradients the same size
whatever T: with respect to the student's logits, d(T^2 KL)/ds = T (q - p) / B, which
would shrink as 1 / T without it. The teacher's logits are meant to come from a forward
pass under no_grad, so that they are constants here.
"""
import numbers

from ..autograd import Tensor
from ..functional import cross_entropy, kl_div, log_softmax, softmax


def distillation_loss(student_logits, teacher_logits, targets=None, temperature=4.0, alpha=0.9):
    """alpha * T^2 * KL(softmax(t / T) || softmax(s / T)) + (1 - alpha) * cross_entropy(s, targets).

    student_logits, teacher_logits (B, C); targets (B,) class indices, or None with alpha = 1
    (transfer images without labels). Equals PyTorch's
    alpha * T * T * kl_div(log_softmax(s / T), softmax(t / T), reduction='batchmean')
    + (1 - alpha) * cross_entropy(s, targets).
    """
    op = "distillation_loss"
    for name, logits in (("student_logits", student_logits), ("teacher_logits", teacher_logits)):
        if not isinstance(logits, Tensor) or logits.ndim != 2:
            raise ValueError(f"{op}: {name} must be a 2-d Tensor (batch, classes), got "
                             f"{getattr(logits, 'shape', type(logits).__name__)}")
    (batch, classes), (teacher_batch, teacher_classes) = student_logits.shape, teacher_logits.shape
    if classes != teacher_classes:
        raise ValueError(f"{op}: the student has {classes} classes but the teacher has "
                         f"{teacher_classes} (student_logits {student_logits.shape}, "
                         f"teacher_logits {teacher_logits.shape}); both must score the same classes")
    if batch != teacher_batch:
        raise ValueError(f"{op}: student_logits hold {batch} samples but teacher_logits "
                         f"{teacher_batch}; give both the same batch")
    if not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ValueError(f"{op}: temperature must be a positive number, got {temperature!r}")
    if not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:
        raise ValueError(f"{op}: alpha must lie in [0, 1], got {alpha!r}")
    if targets is None and alpha != 1:
        raise ValueError(f"{op}: without targets only the soft part is defined; pass alpha=1 "
                         f"(got alpha={alpha})")
    soft = (temperature * temperature) * kl_div(log_softmax(student_logits / temperature, dim=1),
                                                softmax(teacher_logits / temperature, dim=1),
                                                reduction="batchmean")
    if alpha == 1:
        return soft
    hard = cross_entropy(student_logits, targets)
    return hard if alpha == 0 else alpha * soft + (1 - alpha) * hard
