"""distillation_loss (distillation/losses.py): PyTorch's value and gradients, gradcheck, and
the soft gradient T (q - p) / B."""
import numpy
import pytest
from hypothesis import given, strategies as st

import minicnn
import minicnn.functional as F
from minicnn.distillation import distillation_loss
from tests.helpers import leaf


@given(seed=st.integers(0, 2 ** 16), temperature=st.sampled_from([1.0, 2.0, 4.0, 10.0]),
       alpha=st.sampled_from([0.0, 0.3, 0.9, 1.0]))
def test_value_and_gradients_equal_torch(torch, seed, temperature, alpha):
    rng = numpy.random.default_rng(seed)
    s, t = rng.standard_normal((2, 5, 4)) * 3
    targets = rng.integers(0, 4, 5)
    student, teacher = leaf(s), leaf(t)
    loss = distillation_loss(student, teacher, minicnn.tensor(targets), temperature, alpha)
    ts, tt = torch.tensor(s, requires_grad=True), torch.tensor(t, requires_grad=True)
    nn_f = torch.nn.functional
    soft = temperature ** 2 * nn_f.kl_div(nn_f.log_softmax(ts / temperature, dim=1),
                                          nn_f.softmax(tt / temperature, dim=1), reduction="batchmean")
    expected = alpha * soft + (1 - alpha) * nn_f.cross_entropy(ts, torch.tensor(targets))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10, abs=1e-12)
    loss.backward()
    expected.backward()
    numpy.testing.assert_allclose(student.grad.numpy(), ts.grad.numpy(), rtol=1e-9, atol=1e-12)
    if alpha > 0:
        numpy.testing.assert_allclose(teacher.grad.numpy(), tt.grad.numpy(), rtol=1e-9, atol=1e-12)


@given(seed=st.integers(0, 2 ** 16), alpha=st.sampled_from([0.0, 0.5, 1.0]))
def test_gradcheck(seed, alpha):
    rng = numpy.random.default_rng(seed)
    student, teacher = leaf(rng.standard_normal((3, 4))), leaf(rng.standard_normal((3, 4)))
    targets = minicnn.tensor(rng.integers(0, 4, 3))
    assert minicnn.gradcheck(lambda s, t: distillation_loss(s, t, targets, 3.0, alpha), (student, teacher))


def test_soft_gradient_is_t_times_q_minus_p_over_b():
    rng = numpy.random.default_rng(0)
    temperature, batch = 5.0, 6
    s, t = rng.standard_normal((2, batch, 10)) * 4
    student = leaf(s)
    distillation_loss(student, minicnn.tensor(t), None, temperature, alpha=1.0).backward()
    q = F.softmax(minicnn.tensor(s / temperature), dim=1).numpy()
    p = F.softmax(minicnn.tensor(t / temperature), dim=1).numpy()
    numpy.testing.assert_allclose(student.grad.numpy(), temperature * (q - p) / batch, rtol=1e-10, atol=1e-14)


def test_alpha_zero_is_plain_cross_entropy():
    rng = numpy.random.default_rng(1)
    s, t = minicnn.tensor(rng.standard_normal((4, 3))), minicnn.tensor(rng.standard_normal((4, 3)))
    targets = minicnn.tensor(numpy.array([0, 2, 1, 1]))
    assert distillation_loss(s, t, targets, 7.0, alpha=0.0).item() == F.cross_entropy(s, targets).item()


def test_bad_input_is_named():
    s, t = minicnn.zeros(4, 10), minicnn.zeros(4, 5)
    with pytest.raises(ValueError, match=r"distillation_loss: the student has 10 classes but the teacher has 5"):
        distillation_loss(s, t, minicnn.tensor(numpy.zeros(4, int)))
    with pytest.raises(ValueError, match="student_logits hold 4 samples but teacher_logits 3"):
        distillation_loss(s, minicnn.zeros(3, 10))
    with pytest.raises(ValueError, match="temperature must be a positive number, got 0"):
        distillation_loss(s, minicnn.zeros(4, 10), None, temperature=0, alpha=1.0)
    with pytest.raises(ValueError, match="without targets only the soft part is defined"):
        distillation_loss(s, minicnn.zeros(4, 10), None, alpha=0.5)
