"""Pictures of the computation graph: DOT text for Graphviz, a PNG, or a matplotlib drawing.

The graph is read backwards from a tensor, as the backward pass reads it: each tensor
points to its `creator` Function, and each Function to its `inputs`. Tensors are boxes
(shape and dtype; leaves that require grad are marked, constants greyed), Functions are
ellipses with the op's class name.

    y = (x * w).sum()
    print(to_dot(y))          # paste into any Graphviz viewer
    render(y, "graph.png")    # needs the `dot` program (apt-get install graphviz)
    draw(y)                   # matplotlib only, no Graphviz needed
"""
import shutil
import subprocess

from .autograd import Tensor

_DOT_STYLE = {
    "leaf": 'shape=box, style=filled, fillcolor="#cfe2ff"',
    "constant": 'shape=box, style=filled, fillcolor="#eeeeee", fontcolor="#555555"',
    "tensor": "shape=box",
    "function": 'shape=ellipse, style=filled, fillcolor="#fff3cd"',
}
_DRAW_COLOURS = {"leaf": "#cfe2ff", "constant": "#eeeeee", "tensor": "white", "function": "#fff3cd"}


def graph(tensor):
    """The nodes and edges of the graph that produced `tensor`.

    Returns (nodes, edges): `nodes` maps a node id ("t0", "f0", ...) to (kind, label), kind
    being "leaf" (requires grad), "constant", "tensor" (an op's output) or "function";
    `edges` lists (source id, target id) pairs in the direction of the forward pass.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph: expected a Tensor, got {type(tensor).__name__}")
    ids, nodes, edges = {}, {}, []

    def node_id(obj, kind, label):
        if id(obj) not in ids:
            ids[id(obj)] = f"{'f' if kind == 'function' else 't'}{len(ids)}"
            nodes[ids[id(obj)]] = (kind, label)
        return ids[id(obj)]

    # Walked with an explicit stack, like the backward pass, so deep graphs are fine.
    stack, seen = [tensor], set()
    node_id(tensor, _tensor_kind(tensor), _tensor_label(tensor))
    while stack:
        output = stack.pop()
        function = output.creator
        if function is None:
            continue
        freed = not hasattr(function, "inputs")
        label = type(function).__name__ + ("\n(freed by backward)" if freed else "")
        function_id = node_id(function, "function", label)
        edges.append((function_id, ids[id(output)]))
        if freed or id(function) in seen:
            continue
        seen.add(id(function))
        for x in function.inputs:
            if x is None:
                continue
            first_visit = id(x) not in ids
            edges.append((node_id(x, _tensor_kind(x), _tensor_label(x)), function_id))
            if first_visit:
                stack.append(x)
    return nodes, _unique(edges)


def to_dot(tensor, rankdir="LR"):
    """Graphviz DOT text of the graph that produced `tensor` (inputs on the left)."""
    nodes, edges = graph(tensor)
    lines = ["digraph minicnn {", f"  rankdir={rankdir};", '  node [fontname="Helvetica"];']
    for key, (kind, label) in nodes.items():
        lines.append(f'  {key} [label="{_escape(label)}", {_DOT_STYLE[kind]}];')
    lines += [f"  {source} -> {target};" for source, target in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensor, path, format=None):
    """Write the graph as an image with Graphviz's `dot` (format from the suffix, PNG by default)."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: the Graphviz program 'dot' was not found on PATH; install Graphviz "
            "(apt-get install graphviz, brew install graphviz), or use draw(tensor) for a "
            "matplotlib picture, or to_dot(tensor) for the text")
    path = str(path)
    format = format or (path.rsplit(".", 1)[-1] if "." in path else "png")
    result = subprocess.run([dot, f"-T{format}", "-o", path], input=to_dot(tensor),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"render: dot failed writing {path!r}: {result.stderr.strip()}")
    return path


def draw(tensor, ax=None):
    """Draw the graph with matplotlib: columns by distance from `tensor`, which is on the right."""
    import matplotlib.pyplot as plt   # only drawing needs matplotlib

    nodes, edges = graph(tensor)
    consumers = _consumers(nodes, edges)
    column = _distance_from_output(nodes, consumers)
    rows, position = {}, {}
    for key in nodes:
        rows.setdefault(column[key], []).append(key)
    for depth in sorted(rows):
        # Each node sits near the mean height of its consumers, which avoids most crossings.
        keys = sorted(rows[depth], key=lambda k: sum(position[c][1] for c in consumers[k])
                      / max(len(consumers[k]), 1))
        for row, key in enumerate(keys):
            position[key] = (-depth, row - (len(keys) - 1) / 2)
    if ax is None:
        width = 1.6 * (max(column.values()) + 1)
        height = 1.0 * max(len(keys) for keys in rows.values()) + 0.5
        _, ax = plt.subplots(figsize=(max(width, 3), max(height, 1.5)))
    for source, target in edges:
        ax.annotate("", xy=position[target], xytext=position[source],
                    arrowprops=dict(arrowstyle="->", color="#666666", shrinkA=22, shrinkB=22))
    for key, (kind, label) in nodes.items():
        box = "round,pad=0.3" if kind == "function" else "square,pad=0.3"
        ax.text(*position[key], label, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle=box, facecolor=_DRAW_COLOURS[kind], edgecolor="#444444"))
    xs = [x for x, _ in position.values()]
    ys = [y for _, y in position.values()]
    ax.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    return ax


def _consumers(nodes, edges):
    consumers = {key: [] for key in nodes}
    for source, target in edges:
        consumers[source].append(target)
    return consumers


def _distance_from_output(nodes, consumers):
    """Longest path from each node to the output, so every arrow points right."""
    distance = {}
    for key in _reverse_topological(nodes, consumers):
        distance[key] = max((distance[c] + 1 for c in consumers[key]), default=0)
    return distance


def _reverse_topological(nodes, consumers):
    """Nodes ordered so that each comes after all of its consumers."""
    order, done = [], set()
    for start in nodes:
        stack = [(start, False)]
        while stack:
            key, expanded = stack.pop()
            if expanded:
                order.append(key)
            elif key not in done:
                done.add(key)
                stack.append((key, True))
                stack.extend((c, False) for c in consumers[key] if c not in done)
    return order


def _tensor_kind(x):
    if x.creator is not None:
        return "tensor"
    return "leaf" if x.requires_grad else "constant"


def _tensor_label(x):
    lines = [x.name] if x.name else []
    lines.append(f"{x.shape} {x.dtype}")
    if x.creator is None:
        lines.append("leaf, requires grad" if x.requires_grad else "constant")
    return "\n".join(lines)


def _escape(label):
    return label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _unique(edges):
    return list(dict.fromkeys(edges))
