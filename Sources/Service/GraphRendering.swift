import Autograd
import GraphRender

/// get_symbol results drawn as SVG or Graphviz DOT through GraphRender.
enum GraphRendering {
    static func renderGraph(_ symbol: GraphSymbol) -> RenderGraph {
        RenderGraph(nodes: symbol.nodes.map { node in
            RenderNode(id: node.id, op: node.op, name: node.name, shape: node.shape, dtype: node.dtype.rawValue,
                       isVariable: node.isVariable, gradReq: node.gradReq?.rawValue, inputs: node.inputs)
        }, heads: symbol.heads)
    }

    static func svg(_ symbol: GraphSymbol) throws(APIError) -> [UInt8] {
        do { return Array(try GraphRenderer.svg(renderGraph(symbol)).utf8) } catch { throw failure(error) }
    }

    static func dot(_ symbol: GraphSymbol) throws(APIError) -> [UInt8] {
        do { return Array(try GraphRenderer.dot(renderGraph(symbol)).utf8) } catch { throw failure(error) }
    }

    private static func failure(_ error: GraphRenderError) -> APIError {
        APIError(.internal, "The graph could not be rendered: \(error.description)")
    }
}
