/// One item of a basic index, like Python's `x[1, 2:5:2, :]`.
public enum IndexItem: Sendable, Equatable {
    /// A single position (negative counts from the end); drops the axis.
    case at(Int)
    /// `start:stop:step` with Python defaults for nil.
    case range(Int?, Int?, Int?)
    /// `:`
    case all
}

extension Context {
    /// Basic indexing (`x[items]`) as recorded `slice` + `reshape` ops, so gradients scatter back.
    /// Integer items drop their axis; indexing every axis with integers gives shape (1,), as MXNet.
    public func index(_ x: NDArray, _ items: [IndexItem]) throws(AutogradError) -> NDArray {
        try typed {
            let (begin, end, step, drop) = try sliceSpec(x.shape, items)
            let s = try op("slice", [x], ["begin": opList(begin), "end": opList(end), "step": opList(step)])
            guard !drop.isEmpty else { return s }
            let kept = s.shape.indices.filter { !drop.contains($0) }.map { s.shape[$0] }
            return try op("reshape", [s], ["shape": .list((kept.isEmpty ? [1] : kept).map { .int($0) })])
        }
    }

    /// `x[items] = value` in place (value broadcasts as a scalar or must match the selection's
    /// shape), under MXNet's in-place rules inside `record`.
    public func assign(_ target: NDArray, at items: [IndexItem], from value: NDArray) throws(AutogradError) {
        try typed {
            try checkInplace(targets: [target], inputs: [value])
            let (begin, end, step, drop) = try sliceSpec(target.shape, items)
            let geo = try sliceGeometry(target.shape, begin: begin, end: end, step: step)
            let selected = geo.shape.indices.filter { !drop.contains($0) }.map { geo.shape[$0] }
            guard value.size == 1 || value.shape == selected || value.shape == geo.shape else {
                throw AutogradError(.shapeMismatch, "cannot assign an array of shape \(shapeText(value.shape)) to a selection of shape \(shapeText(selected))")
            }
            let src = try empty(geo.shape, target.dtype)
            Kernels.assign(src, from: value)
            Kernels.stridedScatter(src, into: target, offset: geo.offset, strides: geo.strides)
        }
    }

    /// slice begin/end/step for index items, and the axes integer items drop.
    private func sliceSpec(_ shape: [Int], _ items: [IndexItem]) throws -> ([Int?], [Int?], [Int?], Set<Int>) {
        guard items.count <= shape.count else {
            throw AutogradError(.invalidParameter, "too many indices (\(items.count)) for an array of dimension \(shape.count)")
        }
        var begin: [Int?] = [], end: [Int?] = [], step: [Int?] = [], drop = Set<Int>()
        for (axis, item) in items.enumerated() {
            switch item {
            case .at(let i):
                let n = shape[axis]
                let j = i < 0 ? i + n : i
                guard j >= 0 && j < n else {
                    throw AutogradError(.invalidParameter, "index \(i) is out of bounds for axis \(axis) with size \(n)")
                }
                begin.append(j); end.append(j + 1); step.append(1); drop.insert(axis)
            case .range(let b, let e, let s):
                begin.append(b); end.append(e); step.append(s)
            case .all:
                begin.append(nil); end.append(nil); step.append(nil)
            }
        }
        return (begin, end, step, drop)
    }
}
