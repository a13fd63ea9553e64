import Autograd
import GraphRender

/// get_symbol results drawn as SVG or Graphviz DOT through GraphRender.
enum GraphRendering {
    /// True for a variable node whose gradient a backward that reached the variable ids `reached` wrote.
    static func isReached(_ node: GraphSymbol.Node, _ reached: Set<Int>) -> Bool {
        node.variableID.map(reached.contains) ?? false
    }

    /// The render model; variable nodes in `highlighted` (variable ids) are drawn highlighted.
    static func renderGraph(_ symbol: GraphSymbol, highlighted: Set<Int> = []) -> RenderGraph {
        RenderGraph(nodes: symbol.nodes.map { node in
            RenderNode(id: node.id, op: node.op, name: node.name, shape: node.shape, dtype: node.dtype.rawValue,
                       isVariable: node.isVariable, gradReq: node.gradReq?.rawValue,
                       highlighted: isReached(node, highlighted), inputs: node.inputs)
        }, heads: symbol.heads)
    }

    static func svg(_ symbol: GraphSymbol, highlighted: Set<Int> = []) throws(APIError) -> [UInt8] {
        do { return Array(try GraphRenderer.svg(renderGraph(symbol, highlighted: highlighted)).utf8) } catch { throw failure(error) }
    }

    static func dot(_ symbol: GraphSymbol, highlighted: Set<Int> = []) throws(APIError) -> [UInt8] {
        do { return Array(try GraphRenderer.dot(renderGraph(symbol, highlighted: highlighted)).utf8) } catch { throw failure(error) }
    }

    private static func failure(_ error: GraphRenderError) -> APIError {
        APIError(.internal, "The graph could not be rendered: \(error.description)")
    }
}
