"""`Optimizer`: the base class that owns parameter groups, per-parameter state and `step()`.

An optimizer changes each parameter `w` a little against its gradient `g = dL/dw`. What
"a little" means is the one thing the subclasses differ in, so each writes exactly one
method, `_update(param, grad, state, group)`, working in place on raw arrays (NumPy on the
CPU, CuPy on the GPU). Everything else lives here, once:

    param_groups   a list of dicts: {"params": [tensors], "lr": ..., other settings};
                   groups let one model train with several learning rates (fine-tuning:
                   a small lr for the pretrained body, a larger one for the new head)
    state          {parameter tensor: {"step": n, arrays such as "exp_avg"}}, arrays allocated
                   with the parameter's own array module, so they live on its device
    step()         for every parameter that has a gradient: state["step"] += 1, then _update,
                   then the parameter's version is bumped (an in-place write; see autograd)
    zero_grad()    forget the gradients before the next backward
    state_dict()   plain numbers and arrays (no pickle), to resume training bit for bit

Because `_update` sees only arrays and a dict, a fused GPU kernel can later replace it for
CuPy arrays without touching anything else. Semantics follow torch.optim.Optimizer.
"""
from ..autograd import Tensor, enable_grad, increment_version, no_grad
from ..backend import array_module, device_of, move_array


class Optimizer:
    """Base class: `params` is an iterable of Tensors, or of dicts {"params": tensors,
    setting: value} (one per parameter group); `defaults` fills the settings a group omits."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{self._name}: params must be an iterable of tensors or of dicts, "
                            f"got a single Tensor; wrap it in a list: [tensor]")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list; pass model.parameters() "
                             "of a model that has parameters")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    # --- parameter groups -----------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group such as {"params": head.parameters(), "lr": 1e-2}; missing settings
        take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}.add_param_group: expected a dict with a 'params' "
                            f"entry, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}.add_param_group: the group has no 'params' entry "
                             f"(keys: {sorted(param_group)})")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for position, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"{self._name}: parameter {position} of group "
                                f"{len(self.param_groups)} is a {type(param).__name__}, "
                                "expected a minicnn Tensor")
            if not param.is_leaf:
                raise ValueError(f"{self._name}: parameter {position} (shape {param.shape}) "
                                 "is not a leaf tensor; optimize the tensors you created, not "
                                 "results of operations")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError(f"{self._name}: a parameter appears in more than one group (or twice "
                             "in one); each parameter may be optimized only once")
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Raise a ValueError naming any setting of `group` out of its range."""
        check_setting(self._name, "lr", group["lr"], group["lr"] >= 0, ">= 0")

    # --- the update ---------------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` (optional) recomputes the
        loss and is called with gradients enabled, as in PyTorch. Returns its loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    state = self.state.get(param)
                    if state is None:
                        state = self.state[param] = {"step": 0, **self._init_state(param.data, group)}
                    state["step"] += 1
                    self._update(param.data, param.grad.data, state, group)
                    # An in-place write: a graph built before this step that needs the old
                    # values now raises in backward instead of using these (tensor.py).
                    increment_version(param)
        return loss

    def _init_state(self, param, group):
        """The state arrays of a parameter before its first update (none by default)."""
        return {}

    def _update(self, param, grad, state, group):
        """Change the array `param` in place; `state["step"]` is already this step's number."""
        raise NotImplementedError(f"{self._name} must implement _update(param, grad, state, group)")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: `.grad = None` (the default, as in PyTorch, which also saves
        memory), or, with set_to_none=False, a zero array of the parameter's shape."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    # A fresh array rather than zeroing in place: a gradient array may be a
                    # read-only broadcast view, or shared with another leaf's gradient.
                    param.grad = Tensor(array_module(param.data).zeros_like(param.data))

    # --- checkpoints --------------------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: {name: array or number}}, "param_groups": [settings + "params":
        [indices]]}: parameters are named by their position across the groups, as in PyTorch,
        so the dict refers to no tensor and can be saved with minicnn.save."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        groups = [{**{k: v for k, v in group.items() if k != "params"},
                   "params": [index[id(p)] for p in group["params"]]}
                  for group in self.param_groups]
        state = {index[id(p)]: dict(s) for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore settings and state saved by `state_dict()`; state arrays are copied onto
        each parameter's device and dtype. The groups must hold the same number of parameters."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the state_dict has "
                             f"{len(saved_groups)} parameter groups but the optimizer has "
                             f"{len(self.param_groups)}")
        for position, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{self._name}.load_state_dict: group {position} has "
                                 f"{len(saved['params'])} parameters in the state_dict but "
                                 f"{len(group['params'])} in the optimizer")
        params = {}
        for saved, group in zip(saved_groups, self.param_groups):
            params.update(zip(saved["params"], group["params"]))
        # Everything is checked and copied before anything changes, so a bad state_dict
        # leaves the optimizer as it was.
        state = {}
        for key, saved_state in state_dict["state"].items():
            param = params[int(key)]
            state[param] = {name: _onto_param(value, param, name, self._name)
                            for name, value in saved_state.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = state

    def _all_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def __repr__(self):
        lines = [f"{self._name} ("]
        for position, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {position}: {len(group['params'])} tensors, {settings}")
        return "\n".join(lines + [")"])


def check_setting(optimizer, name, value, valid, expected):
    if not valid:
        raise ValueError(f"{optimizer}: invalid {name} {value!r}, expected {expected}")


def check_betas(optimizer, betas):
    if len(betas) != 2 or not all(0.0 <= beta < 1.0 for beta in betas):
        raise ValueError(f"{optimizer}: invalid betas {tuple(betas)!r}, expected two numbers "
                         "in [0, 1), such as (0.9, 0.999)")


def with_weight_decay(grad, param, weight_decay):
    """g + weight_decay * w: the gradient of L + weight_decay/2 * |w|^2 (L2 regularization)."""
    return grad + weight_decay * param if weight_decay != 0 else grad


def _onto_param(value, param, name, optimizer):
    """A copy of a saved state entry on the parameter's device; floating arrays take its dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if not hasattr(value, "dtype") or not hasattr(value, "shape"):
        return value            # a number such as the step count
    if tuple(value.shape) != param.shape:
        raise ValueError(f"{optimizer}.load_state_dict: state '{name}' has shape "
                         f"{tuple(value.shape)} but its parameter has shape {param.shape}")
    array = move_array(value, device_of(param.data))
    if array.dtype.kind == "f":
        array = array.astype(param.dtype, copy=False)
    return array.copy() if array is value else array

