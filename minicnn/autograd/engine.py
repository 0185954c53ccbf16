"""The backward pass: walk the graph from the outputs to the leaves, applying the chain rule.

Each Function is visited once, after every Function that consumes its outputs, so the
gradient it receives is already the sum over all the paths through which its outputs
were used. That order is a reverse topological order, found here with an explicit stack
instead of recursion so that a chain of 100,000 ops does not exceed Python's recursion
limit.
"""
from ..backend import array_module
from .mode import enable_grad, no_grad
from .tensor import Tensor, as_array


def backward(outputs, grad_outputs, retain_graph=None, create_graph=False):
    """Accumulate the gradient of `outputs` into the `.grad` of every leaf that requires it.

    retain_graph defaults to create_graph, as in PyTorch: a graph built from the backward
    pass refers to the forward graph, so that must stay alive for it to be differentiated.
    """
    _run(outputs, grad_outputs, retain_graph, create_graph, inputs=None, allow_unused=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """d(outputs)/d(inputs) as a tuple, like torch.autograd.grad; leaves' `.grad` are untouched.

    With `create_graph=True` the returned gradients are themselves differentiable, so
    `grad(grad(f, x, create_graph=True)[0] @ v, x)` is a Hessian-vector product.
    """
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for position, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {position} (shape {x.shape}) does not require grad")
    return tuple(_run(outputs, grad_outputs, retain_graph, create_graph, inputs, allow_unused))


def _run(outputs, grad_outputs, retain_graph, create_graph, inputs, allow_unused):
    if retain_graph is None:
        retain_graph = create_graph
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"backward: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    grads = {}          # id(tensor) -> (tensor, accumulated gradient)
    for y, gy in zip(outputs, grad_outputs):
        if not y.requires_grad:
            raise RuntimeError(
                f"backward: output of shape {y.shape} does not require grad and has no "
                "creator; did you compute it under no_grad() or from tensors without "
                "requires_grad=True?")
        _accumulate(grads, y, _initial_grad(y, gy))

    wanted = None if inputs is None else {id(x) for x in inputs}
    captured = {}
    mode = enable_grad() if create_graph else no_grad()
    with mode:
        for function in _reverse_topological_order(outputs):
            if getattr(function, "_freed", False):
                raise RuntimeError(
                    f"backward: trying to backward through the graph a second time (through "
                    f"{type(function).__name__}); its saved values were freed after the first "
                    "backward. Pass retain_graph=True to the first backward to keep them.")
            gys = []
            for ref, (shape, dtype) in zip(function._output_refs, function._output_meta):
                y = ref()
                entry = grads.pop(id(y), None) if y is not None else None
                gy = None if entry is None else _finish(y, entry[1], wanted, captured)
                gys.append(gy)
            if all(gy is None for gy in gys):
                continue
            gys = [gy if gy is not None else _zeros(shape, dtype, function) for gy, (shape, dtype)
                   in zip(gys, function._output_meta)]
            function.check_saved_versions()
            gxs = function.backward(*gys)
            gxs = gxs if isinstance(gxs, tuple) else (gxs,)
            if len(gxs) != len(function.inputs):
                raise RuntimeError(f"{type(function).__name__}.backward returned {len(gxs)} "
                                   f"gradients for {len(function.inputs)} inputs")
            for position, (x, gx) in enumerate(zip(function.inputs, gxs)):
                if x is None or not x.requires_grad:
                    continue
                if gx is None:
                    raise RuntimeError(
                        f"{function.name}: input {position} (shape {x.shape}) requires grad but "
                        "is not differentiable in this operation")
                gx = _check_gradient(function, position, x, gx)
                _accumulate(grads, x, gx)
            if not retain_graph:
                _free(function)

        for tensor, g in list(grads.values()):   # what is left are the leaves
            g = _finish(tensor, g, wanted, captured)
            if inputs is None and tensor.is_leaf:
                # A copy: one gradient array can reach several leaves (the backward of a + b
                # passes dL/dy to both), and in-place updates of one .grad must not change another.
                g = g if create_graph else Tensor(g.data.copy())
                tensor.grad = g if tensor.grad is None else tensor.grad + g

    if inputs is None:
        return None
    results = []
    for position, x in enumerate(inputs):
        if id(x) not in captured and not allow_unused:
            raise RuntimeError(f"grad: input {position} (shape {x.shape}) was not used to "
                               "compute the outputs; pass allow_unused=True to get None for it")
        results.append(captured.get(id(x)))
    return results


def _initial_grad(y, gy):
    xp = array_module(y.data)
    if gy is None:
        if y.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be created implicitly only for scalar outputs, but the "
                f"output has shape {y.shape}; pass grad= with that shape")
        return Tensor(xp.ones_like(y.data))
    gy = gy if isinstance(gy, Tensor) else Tensor(as_array(gy, dtype=y.dtype, like=y.data))
    if gy.shape != y.shape:
        raise RuntimeError(f"backward: grad has shape {gy.shape} but the output has shape {y.shape}")
    return gy


def _accumulate(grads, tensor, g):
    key = id(tensor)
    if key in grads:
        grads[key] = (tensor, grads[key][1] + g)
    else:
        grads[key] = (tensor, g)


def _finish(tensor, g, wanted, captured):
    """The gradient of `tensor` is complete: run its hooks, keep it where it was asked for."""
    for hook in tensor._hooks:
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    if wanted is not None and id(tensor) in wanted:
        captured[id(tensor)] = g
    elif wanted is None and tensor._retains_grad and not tensor.is_leaf:
        tensor.grad = g.detach() if tensor.grad is None else tensor.grad + g.detach()
    return g


def _check_gradient(function, position, x, gx):
    if not isinstance(gx, Tensor):
        gx = Tensor(as_array(gx, like=x.data))
    if gx.shape != x.shape or gx.dtype != x.dtype:
        raise RuntimeError(
            f"{type(function).__name__}.backward returned a gradient of shape {gx.shape} and "
            f"dtype {gx.dtype} for input {position}, which has shape {x.shape} and dtype {x.dtype}")
    return gx


def _zeros(shape, dtype, function):
    xp = array_module(*[x.data for x in function.inputs if x is not None])
    return Tensor(xp.zeros(shape, dtype=dtype))


def _free(function):
    """Drop what the function saved for backward, so the graph's memory is released now."""
    function.__dict__.clear()
    function._freed = True


def _reverse_topological_order(outputs):
    """Functions reachable from `outputs`, each placed before every function it depends on."""
    order, visited = [], set()
    stack = [(y.creator, False) for y in outputs if y.creator is not None]
    while stack:
        function, expanded = stack.pop()
        if expanded:
            order.append(function)
            continue
        if id(function) in visited:
            continue
        visited.add(id(function))
        stack.append((function, True))
        for x in getattr(function, "inputs", None) or ():
            if x is not None and x.creator is not None and id(x.creator) not in visited:
                stack.append((x.creator, False))
    return reversed(order)
