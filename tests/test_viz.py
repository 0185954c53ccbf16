"""minicnn.viz: the graph as DOT text, as a PNG through Graphviz, and drawn with matplotlib."""
import re
import shutil

import numpy
import pytest

import minicnn
from minicnn import viz
from minicnn.functional import exp
from tests.helpers import leaf


def _example():
    x, w = leaf([1.0, 2.0]), leaf(numpy.ones((3, 2)))
    x.name, w.name = "x", 'w "weights"'
    return x, w, exp(x * w) + x * 2.0


def test_graph_has_every_tensor_and_function():
    _, _, y = _example()
    nodes, edges = viz.graph(y)
    functions = sorted(label for kind, label in nodes.values() if kind == "function")
    assert functions == ["Add", "Exp", "Mul", "Mul"]
    kinds = sorted(kind for kind, _ in nodes.values())
    assert kinds.count("leaf") == 2 and kinds.count("constant") == 1 and kinds.count("tensor") == 4
    assert len(edges) == 4 * 1 + 5 + 2      # one output per function, 7 inputs in all
    assert len(set(edges)) == len(edges)


def test_dot_text_names_ops_shapes_leaves_and_names():
    _, _, y = _example()
    dot = viz.to_dot(y)
    assert dot.startswith("digraph minicnn {") and dot.rstrip().endswith("}")
    assert dot.count('label="Mul"') == 2 and 'label="Exp"' in dot and 'label="Add"' in dot
    assert r'label="x\n(2,) float64\nleaf, requires grad"' in dot
    assert r'label="w \"weights\"\n(3, 2) float64\nleaf, requires grad"' in dot    # escaped quotes
    assert r'label="(3, 2) float64", shape=box]' in dot                            # an op's output
    assert r"() float64\nconstant" in dot                                          # the scalar 2.0
    node_ids = set(re.findall(r"^  (\w+) \[", dot, flags=re.M))
    for source, target in re.findall(r"^  (\w+) -> (\w+);", dot, flags=re.M):
        assert source in node_ids and target in node_ids


def test_edges_follow_the_forward_direction():
    x = leaf([1.0])
    x.name = "x"
    y = exp(x)
    y.name = "y"
    dot = viz.to_dot(y)
    ids = {name: re.search(rf'(\w+) \[label="{name}', dot).group(1) for name in ("x", "y", "Exp")}
    assert f"{ids['x']} -> {ids['Exp']};" in dot and f"{ids['Exp']} -> {ids['y']};" in dot


def test_a_freed_graph_says_so():
    x = leaf([1.0])
    y = exp(x) * 3.0
    y.backward(minicnn.ones_like(y))
    assert "Mul\\n(freed by backward)" in viz.to_dot(y)


def test_a_leaf_alone():
    nodes, edges = viz.graph(minicnn.tensor([1, 2]))
    assert list(nodes.values()) == [("constant", "(2,) int64\nconstant")] and edges == []


def test_not_a_tensor():
    with pytest.raises(TypeError, match="graph: expected a Tensor, got ndarray"):
        viz.to_dot(numpy.zeros(2))


def test_deep_graph_needs_no_recursion():
    y = leaf([1.0])
    for _ in range(5000):
        y = -y
    nodes, edges = viz.graph(y)
    assert len(nodes) == 2 * 5000 + 1 and len(edges) == 2 * 5000


def test_draw_places_every_node_left_of_its_consumers():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    _, _, y = _example()
    ax = viz.draw(y)
    arrows = [t for t in ax.texts if isinstance(t, matplotlib.text.Annotation)]
    boxes = [t for t in ax.texts if t not in arrows]
    nodes, edges = viz.graph(y)
    assert len(boxes) == len(nodes) and len(arrows) == len(edges)
    labels = {t.get_text(): t.get_position() for t in boxes}
    assert labels["Add"][0] == -1
    assert labels['x\n(2,) float64\nleaf, requires grad'][0] < labels["Exp"][0] < -1
    for arrow in arrows:
        assert arrow.xyann[0] < arrow.xy[0]
    matplotlib.pyplot.close(ax.figure)


def test_render_without_dot_explains(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="render: the Graphviz program 'dot' was not found"):
        viz.render(_example()[2], tmp_path / "graph.png")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_render_writes_a_png(tmp_path):
    path = viz.render(_example()[2], tmp_path / "graph.png")
    with open(path, "rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"
