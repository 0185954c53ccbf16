"""`Function`: one differentiable operation, the node type of the computation graph.

A subclass implements `forward(*arrays)` on raw arrays and `backward(*grad_outputs)` on
Tensors, returning one gradient per input. Because `backward` is written with Tensor
operations, the backward pass is itself recorded when `create_graph=True`, which is what
makes second derivatives (Hessian-vector products, gradient penalties) work.

    class Exp(Function):
        '''y = exp(x).   dL/dx = dL/dy * y.'''
        def forward(self, x):
            return array_module(x).exp(x)
        def backward(self, gy):
            return gy * self.outputs[0]

    y = Exp()(x)
"""
import weakref

from ..backend import array_module, is_floating
from .mode import is_grad_enabled
from .tensor import Tensor, as_tensor


class Function:
    # Subclasses whose outputs carry no gradient (argmax, comparisons) set this to False.
    differentiable = True

    def __call__(self, *inputs):
        reference = next((x for x in inputs if isinstance(x, Tensor)), None)
        tensors = [None if x is None else as_tensor(x, like=reference) for x in inputs]
        arrays = [None if t is None else t.data for t in tensors]
        array_module(*arrays, op=self.name)  # raises a clear error when devices are mixed
        outputs = self.forward(*arrays)
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs

        records = (self.differentiable and is_grad_enabled()
                   and any(t is not None and t.requires_grad for t in tensors))
        results = tuple(Tensor(y, requires_grad=records and is_floating(y.dtype)) for y in outputs)
        if records:
            self.inputs = tensors
            # Outputs are held weakly: a strong reference would make a cycle
            # (output -> creator -> output) that only the garbage collector could free.
            self._output_refs = [weakref.ref(y) for y in results]
            self._output_meta = [(y.shape, y.dtype) for y in results]
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
