"""Hint learning (FitNets: Romero et al. 2015, "FitNets: Hints for Thin Deep Nets").

Besides the teacher's outputs, a student can be taught by the teacher's intermediate
features: a chosen student layer (the "guided" layer), mapped by a learned regressor to the
shape of a chosen teacher layer (the "hint"), is pulled towards it with an L2 loss,

    hint loss = mean over all elements of (adapter(student_feature) - teacher_feature)^2.

The adapter here is a 1x1 convolution, which changes the number of channels and nothing
else, so the two layers' maps must have the same height and width. Both layers are found by
their dotted names (as in model.named_modules()) and read with forward hooks
(nn/module.py's register_forward_hook): the models run as usual and the hooks keep the two
features of the last forward pass.
"""
from .. import functional as F
from ..autograd import no_grad
from ..nn import Conv2d, Module


class HintLoss(Module):
    """hint_loss = HintLoss(student, teacher, "layer2", "layer3", example_images); after a
    forward pass of both models on the same images, hint_loss() is the L2 hint loss. Its
    adapter is a parameter: give hint_loss.parameters() to the optimizer too. remove() takes
    the hooks away again."""

    def __init__(self, student, teacher, student_layer, teacher_layer, example_input):
        super().__init__()
        self._features, self._handles = {}, []
        try:
            self._hook("student", student, student_layer)
            self._hook("teacher", teacher, teacher_layer)
            with no_grad():                 # one pass of each model: the two features' shapes
                student(example_input)
                teacher(example_input)
            shapes = {role: self._features[role].shape for role in ("student", "teacher")}
            for role, name in (("student", student_layer), ("teacher", teacher_layer)):
                if len(shapes[role]) != 4:
                    raise ValueError(f"HintLoss: the {role}'s layer '{name}' gives shape "
                                     f"{shapes[role]}; a hint needs feature maps (N, C, H, W)")
            if shapes["student"][2:] != shapes["teacher"][2:]:
                raise ValueError(
                    f"HintLoss: the student's '{student_layer}' gives {shapes['student']} and the "
                    f"teacher's '{teacher_layer}' {shapes['teacher']}; their heights and widths "
                    "must match (the 1x1 adapter changes only the number of channels)")
        except Exception:
            self.remove()
            raise
        self.adapter = Conv2d(shapes["student"][1], shapes["teacher"][1], kernel_size=1)
        self._features.clear()

    def _hook(self, role, model, name):
        def keep(module, args, output):
            self._features[role] = output
        try:
            layer = model.get_submodule(name)
        except AttributeError as error:
            raise ValueError(f"HintLoss: the {role} has no layer '{name}' ({error})") from None
        self._handles.append(layer.register_forward_hook(keep))

    def forward(self):
        if set(self._features) != {"student", "teacher"}:
            raise RuntimeError("HintLoss: run the student and the teacher on the same images "
                               "before asking for the hint loss")
        student, teacher = self._features["student"], self._features["teacher"]
        if student.shape[0] != teacher.shape[0]:
            raise RuntimeError(f"HintLoss: the last student batch had {student.shape[0]} images "
                               f"and the last teacher batch {teacher.shape[0]}; run both on the "
                               "same images")
        return F.mse_loss(self.adapter(student), teacher.detach())

    def remove(self):
        """Unregister both forward hooks."""
        for handle in self._handles:
            handle.remove()
