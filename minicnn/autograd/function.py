"""`Function`: one differentiable operation, the node type of the computation graph.

A subclass implements `forward(*arrays)` on raw arrays and `backward(*grad_outputs)` on
Tensors, returning one gradient per input. Because `backward` is written with Tensor
operations, the backward pass is itself recorded when `create_graph=True`, which is what
makes second derivatives (Hessian-vector products, gradient penalties) work.

    class Exp(Function):
        '''y = exp(x).   dL/dx = dL/dy * y.'''
        saved = {"x": "y"}
        def forward(self, x):
            return array_module(x).exp(x)
        def backward(self, gy):
            return gy * self.outputs[0]

    y = Exp()(x)

Saved tensors. A recorded Function keeps its inputs (`self.inputs`) and, weakly, its
outputs (`self.outputs`), and its backward reads what it needs from them. If one of those
tensors is written in place between the forward pass and backward (an `optimizer.step()`,
say), backward would silently compute the gradient at the new values. So, as in PyTorch,
the Function records the version of every tensor its backward will read (see tensor.py),
and backward raises if one has changed.

Which tensors those are, each op declares in `saved`, next to its formula: for each input,
by the name forward gives it, the names of the values its gradient is computed from; "y"
is the output ("y0", "y1", ... when there are several):

    Mul       y = a * b        dL/da = dL/dy * b,  dL/db = dL/dy * a   saved = {"a": "b", "b": "a"}
    Add       y = a + b        dL/da = dL/db = dL/dy                   saved = {}
    Sigmoid   y = sigmoid(x)   dL/dx = dL/dy * y * (1 - y)             saved = {"x": "y"}

Only the gradients of inputs that require grad are computed, so only their entries count:
for `w * x` with constant data x, the gradient of w reads x and nothing reads w, and an
update of w before backward is harmless (PyTorch saves the same way). Shapes and dtypes
may always be read: an in-place write keeps them. A Function that does not
declare `saved` is taken to read all its inputs and outputs: the safe default for a new op,
which at worst raises for a write that could not have changed its gradient.
"""
import inspect
import weakref

from ..backend import array_module, is_floating
from .mode import is_grad_enabled
from .tensor import Tensor, as_tensor, memory_owner


class Function:
    # Subclasses whose outputs carry no gradient (argmax, comparisons) set this to False.
    differentiable = True
    # {input name: the input and output names its gradient reads}; None: all of them.
    saved = None
    _reads = None       # `saved` as positions, set for each subclass by __init_subclass__

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._reads = _positions_read(cls)

    def __call__(self, *inputs):
        reference = next((x for x in inputs if isinstance(x, Tensor)), None)
        tensors = [None if x is None else as_tensor(x, like=reference) for x in inputs]
        arrays = [None if t is None else t._data for t in tensors]
        array_module(*arrays, op=self.name)  # raises a clear error when devices are mixed
        outputs = self.forward(*arrays)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs

        records = (self.differentiable and is_grad_enabled()
                   and any(t is not None and t.requires_grad for t in tensors))
        results = tuple(Tensor(y, requires_grad=records and is_floating(y.dtype)) for y in outputs)
        _share_version_counters(results, tensors)
        if records:
            self.inputs = tensors
            # Outputs are held weakly: a strong reference would make a cycle
            # (output -> creator -> output) that only the garbage collector could free.
            self._output_refs = [weakref.ref(y) for y in results]
            self._output_meta = [(y.shape, y.dtype) for y in results]
            self._saved_versions = self._versions_read(tensors, results)
            for y in results:
                y.creator = self
        return results[0] if single else results

    @property
    def outputs(self):
        return [ref() for ref in self._output_refs]

    @property
    def name(self):
        return type(self).__name__.lower()

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward(*arrays)")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} must implement backward(*grad_outputs)")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    # --- saved tensors --------------------------------------------------------------------------
    def _versions_read(self, inputs, outputs):
        """[(is_output, position, version)] of every tensor the backward will read (a tensor
        that two gradients read is listed twice, which is harmless)."""
        if self._reads is None:
            read = [(False, i) for i in range(len(inputs))] + [(True, k) for k in range(len(outputs))]
        else:
            read = [value for i, values in self._reads.items()
                    if i < len(inputs) and inputs[i] is not None and inputs[i].requires_grad
                    for value in values]
        versions = []
        for is_output, position in read:
            tensors = outputs if is_output else inputs
            if position < len(tensors) and tensors[position] is not None:
                versions.append((is_output, position, tensors[position]._version))
        return versions

    def check_saved_versions(self):
        """Raise if a tensor the backward reads was written in place after the forward pass
        (PyTorch's message); the engine calls this just before `backward`."""
        for is_output, position, version in self._saved_versions:
            tensor = self._output_refs[position]() if is_output else self.inputs[position]
            if tensor is not None and tensor._version != version:
                role = f"{'output' if is_output else 'input'} {position}"
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [{tensor.dtype} tensor of shape {tensor.shape}], "
                    f"which is {role} of {type(self).__name__}, is at version {tensor._version}; "
                    f"expected version {version} instead. Hint: it was written in place (by "
                    "optimizer.step(), an assignment to .data, ...) after the forward pass "
                    "that used it; call backward() before that write, or run the forward pass "
                    "again after it.")


def _share_version_counters(outputs, inputs):
    """An output that views an input's memory (a reshape, a slice, the input itself) shares
    its version counter, so that a write through either is seen by both, as in PyTorch."""
    for y in outputs:
        array = y._data
        fresh = getattr(array, "base", None) is None
        owner = array if fresh else memory_owner(array)
        for x in inputs:
            # An array with memory of its own can only be an input's array, returned as it is.
            if x is not None and (x._data is owner if fresh else memory_owner(x._data) is owner):
                y._version_counter = x._version_counter
                break


def _positions_read(cls):
    """`cls.saved` with names turned into positions: {input position: ((is_output, position),
    ...)}, or None when the class does not declare it (everything is read)."""
    if cls.saved is None:
        return None
    parameters = list(inspect.signature(cls.forward).parameters.values())[1:]
    names = [p.name for p in parameters
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def position(name, may_be_output):
        if name in names:
            return False, names.index(name)
        if may_be_output and (name == "y" or (name[:1] == "y" and name[1:].isdigit())):
            return True, int(name[1:] or 0)
        raise TypeError(f"{cls.__name__}.saved: {name!r} is not an input of "
                        f"{cls.__name__}.forward{tuple(names)}"
                        + (" nor an output ('y', 'y0', 'y1', ...)" if may_be_output else ""))

    reads = {}
    for name, read in cls.saved.items():
        read = (read,) if isinstance(read, str) else tuple(read)
        reads[position(name, False)[1]] = tuple(position(r, True) for r in read)
    return reads
