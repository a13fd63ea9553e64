/// Renders recorded histories as self-contained SVG (own layout, no Graphviz) or as Graphviz DOT.
///
/// Both outputs draw the same `VisibleGraph`: leaves at the top, data flowing down; variables are
/// rounded blue boxes showing grad_req, heads have a double border, nodes the last backward reached
/// are amber, boxes with inputs cut by the node limit are dashed. Same input, same bytes.
public enum GraphRenderer {
    /// The graph as an SVG document (UTF-8 text, no external fonts, CSS or scripts).
    public static func svg(_ graph: RenderGraph, options: RenderOptions = .init()) throws(GraphRenderError) -> String {
        svg(try VisibleGraph(graph, options: options))
    }

    /// The graph in Graphviz DOT syntax.
    public static func dot(_ graph: RenderGraph, options: RenderOptions = .init()) throws(GraphRenderError) -> String {
        dot(try VisibleGraph(graph, options: options))
    }

    private struct Style { let fill: String, stroke: String, corner: Int }

    private static func style(_ kind: VisibleGraph.Kind, highlighted: Bool = false) -> Style {
        if highlighted { return Style(fill: "#fde68a", stroke: "#b45309", corner: kind == .op ? 3 : 12) }
        switch kind {
        case .variable: return Style(fill: "#dbeafe", stroke: "#1d4ed8", corner: 12)
        case .constant: return Style(fill: "#f5f5f4", stroke: "#78716c", corner: 12)
        case .op: return Style(fill: "#f1f5f9", stroke: "#475569", corner: 3)
        }
    }

    private static let edgeColour = "#64748b", headerLine = 18.0

    /// SVG for a visible graph, laid out by `GraphLayout`.
    public static func svg(_ visible: VisibleGraph) -> String {
        let layout = GraphLayout(visible), n = Text.number
        // Header: a legend line, then one line per note.
        var legend: [(label: String, style: Style, dashed: Bool, head: Bool)] = [
            ("variable", style(.variable), false, false),
            ("operator", style(.op), false, false),
            ("gradient reached", style(.op, highlighted: true), false, false),
            ("head", style(.op), false, true),
        ]
        if visible.nodes.contains(where: { $0.kind == .constant }) { legend.insert(("constant", style(.constant), false, false), at: 1) }
        if visible.nodes.contains(where: { $0.hiddenInputs > 0 }) { legend.append(("inputs not shown", style(.op), true, false)) }
        let header = GraphLayout.margin + headerLine * Double(1 + visible.notes.count)
        var x = GraphLayout.margin, legendSVG = ""
        for item in legend {
            legendSVG += "<rect x=\"\(n(x))\" y=\"\(n(GraphLayout.margin - 1))\" width=\"16\" height=\"11\" rx=\"\(item.style.corner > 3 ? 5 : 1)\" "
                + "fill=\"\(item.style.fill)\" stroke=\"\(item.style.stroke)\" stroke-width=\"\(item.head ? 2.5 : 1.2)\"\(item.dashed ? " stroke-dasharray=\"4,2\"" : "")/>"
                + "<text x=\"\(n(x + 22))\" y=\"\(n(GraphLayout.margin + 9))\" fill=\"#334155\">\(Text.xml(item.label))</text>\n"
            x += 22 + Double(item.label.count) * GraphLayout.charWidth + 18
        }
        var notesSVG = ""
        for (i, note) in visible.notes.enumerated() {
            notesSVG += "<text class=\"note\" x=\"\(n(GraphLayout.margin))\" y=\"\(n(GraphLayout.margin + 9 + headerLine * Double(i + 1)))\" "
                + "fill=\"#9a3412\" font-weight=\"bold\">\(Text.xml(note))</text>\n"
            x = max(x, GraphLayout.margin + Double(note.count) * GraphLayout.charWidth)
        }
        let width = max(layout.width, x + GraphLayout.margin), height = header + layout.height

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
            + "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"monospace\" font-size=\"12\">\n"
            + "<title>computation graph: \(Text.grouped(visible.nodes.count)) boxes for \(Text.grouped(visible.shownNodes)) "
            + "of \(Text.grouped(visible.totalNodes)) nodes</title>\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n<g class=\"legend\">\n" + legendSVG + "</g>\n" + notesSVG
            + "<g transform=\"translate(0,\(n(header)))\">\n"
        for (edge, route) in zip(visible.edges, layout.routes) {
            var path = "M\(n(route[0].x)),\(n(route[0].y))"
            for (i, (a, b)) in zip(route, route.dropFirst()).enumerated() {
                let mid = (a.y + b.y) / 2
                path += i % 2 == 0 ? " C\(n(a.x)),\(n(mid)) \(n(b.x)),\(n(mid)) \(n(b.x)),\(n(b.y))" : " L\(n(b.x)),\(n(b.y))"
            }
            let tip = route[route.count - 1]
            out += "<g class=\"edge\" data-from=\"\(edge.from)\" data-to=\"\(edge.to)\"><path d=\"\(path)\" fill=\"none\" "
                + "stroke=\"\(edgeColour)\" stroke-width=\"1.2\"/><path d=\"M\(n(tip.x - 4)),\(n(tip.y - 8)) L\(n(tip.x + 4)),\(n(tip.y - 8)) "
                + "L\(n(tip.x)),\(n(tip.y)) Z\" fill=\"\(edgeColour)\"/>"
            if edge.multiplicity > 1 {
                out += "<text x=\"\(n((route[0].x + route[1].x) / 2 + 6))\" y=\"\(n((route[0].y + route[1].y) / 2 + 4))\" "
                    + "font-size=\"11\" fill=\"#334155\">×\(edge.multiplicity)</text>"
            }
            out += "</g>\n"
        }
        for (i, (node, box)) in zip(visible.nodes, layout.boxes).enumerated() {
            let s = style(node.kind, highlighted: node.highlighted)
            let classes = ["node", node.kind.rawValue] + (node.isHead ? ["head"] : []) + (node.highlighted ? ["highlighted"] : [])
            out += "<g class=\"\(classes.joined(separator: " "))\" data-index=\"\(i)\" data-id=\"\(node.memberIDs[node.memberIDs.count - 1])\">"
                + "<title>\(Text.xml(node.tooltip))</title><rect x=\"\(n(box.x))\" y=\"\(n(box.y))\" width=\"\(n(box.width))\" "
                + "height=\"\(n(box.height))\" rx=\"\(s.corner)\" fill=\"\(s.fill)\" stroke=\"\(s.stroke)\" "
                + "stroke-width=\"\(node.isHead ? 2.5 : 1.2)\"\(node.hiddenInputs > 0 ? " stroke-dasharray=\"5,3\"" : "")/>"
            if node.isHead {
                out += "<rect x=\"\(n(box.x + 4))\" y=\"\(n(box.y + 4))\" width=\"\(n(box.width - 8))\" height=\"\(n(box.height - 8))\" "
                    + "rx=\"\(max(s.corner - 3, 1))\" fill=\"none\" stroke=\"\(s.stroke)\" stroke-width=\"0.8\"/>"
            }
            for (k, line) in node.lines.enumerated() {
                out += "<text x=\"\(n(box.x + box.width / 2))\" y=\"\(n(box.y + 18 + GraphLayout.lineHeight * Double(k)))\" "
                    + "text-anchor=\"middle\" fill=\"\(k == 0 ? "#0f172a" : "#334155")\"\(k == 0 ? " font-weight=\"bold\"" : "")>"
                    + "\(Text.xml(line))</text>"
            }
            out += "</g>\n"
        }
        return out + "</g>\n</svg>\n"
    }

    /// DOT for a visible graph: the same boxes, edges and notes as the SVG.
    public static func dot(_ visible: VisibleGraph) -> String {
        var out = "digraph tensord {\n  graph [rankdir=TB, fontname=\"monospace\", fontsize=10, labelloc=t"
        if !visible.notes.isEmpty { out += ", label=\"\(Text.dot(visible.notes.joined(separator: "\n")))\"" }
        out += "];\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n  edge [color=\"\(edgeColour)\", fontname=\"monospace\", fontsize=9];\n"
        for (i, node) in visible.nodes.enumerated() {
            let s = style(node.kind, highlighted: node.highlighted)
            let styles = (node.kind == .op ? [] : ["rounded"]) + ["filled"] + (node.hiddenInputs > 0 ? ["dashed"] : [])
            out += "  n\(i) [label=\"\(Text.dot(node.lines.joined(separator: "\n")))\", tooltip=\"\(Text.dot(node.tooltip))\", "
                + "style=\"\(styles.joined(separator: ","))\", fillcolor=\"\(s.fill)\", color=\"\(s.stroke)\""
                + (node.isHead ? ", peripheries=2, penwidth=2" : "") + "];\n"
        }
        for e in visible.edges {
            out += "  n\(e.from) -> n\(e.to)" + (e.multiplicity > 1 ? " [label=\"×\(e.multiplicity)\"]" : "") + ";\n"
        }
        return out + "}\n"
    }
}
