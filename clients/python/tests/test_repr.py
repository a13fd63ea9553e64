"""Jupyter reprs against a real tensord: get_symbol's result as SVG/HTML, NDArray as an HTML table."""

import re

from tensord.mx import autograd, nd


def seed_graph():
    """The seed example: x = [1,2,3,4], y = x*x + 1 recorded."""
    x = nd.array([1., 2., 3., 4.])
    x.attach_grad()
    with autograd.record():
        y = x * x + 1
    return x, y


def test_symbol_repr_svg_draws_the_seed_graph(mxs):
    x, y = seed_graph()
    svg = autograd.get_symbol(y)._repr_svg_()
    assert svg.lstrip().startswith("<svg")
    assert "broadcast_mul" in svg and "_plus_scalar" in svg
    assert 'class="node variable highlighted"' not in svg      # no backward yet


def test_symbol_repr_svg_highlights_what_the_last_backward_reached(mxs):
    x, y = seed_graph()
    w = nd.array([3.])
    w.attach_grad()
    with autograd.record():
        u = w * y
    y.backward(retain_graph=True)                               # reaches x, not w
    svg = autograd.get_symbol(u)._repr_svg_()
    assert svg.count('class="node variable highlighted"') == 1
    assert svg.count('class="node variable"') == 1
    html = autograd.get_symbol(u)._repr_html_()
    assert "<svg" in html and "&lt;Symbol " in html


def test_symbol_repr_of_a_freed_graph_falls_back_to_text(mxs):
    x, y = seed_graph()
    sym = autograd.get_symbol(y)
    y.backward()                                                # frees the graph
    assert sym._repr_svg_() is None and sym._repr_html_() is None
    assert repr(sym).startswith("<Symbol ")


def test_ndarray_repr_html_shows_shape_dtype_values_and_grad_req(mxs):
    a = nd.array([[1.5, 2.], [3., 4.]])
    html = a._repr_html_()
    assert html.startswith("<table") and html.endswith("</table>")
    assert "(2, 2)" in html and "float32" in html
    # Only the values row: the id row holds client ids such as "c3n6.41" that look like numbers.
    values_row = re.search(r">values</th>(.*?)</tr>", html, re.S).group(1)
    numbers = [float(v) for v in re.findall(r"-?\d+\.\d*", values_row)]
    assert numbers == [1.5, 2., 3., 4.]
    assert "<td><pre style=\"margin:0\">none</pre></td>" in html
    a.attach_grad(grad_req="add")
    assert "<td><pre style=\"margin:0\">add</pre></td>" in a._repr_html_()


def test_ndarray_repr_html_elides_long_values(mxs):
    big = nd.arange(0, 1000)
    html = big._repr_html_()
    assert "(1000,)" in html and "..." in html and "999." in html
    assert html.count("<tr>") == 5
