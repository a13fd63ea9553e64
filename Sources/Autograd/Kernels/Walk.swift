/// Contiguous row-major strides.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var s = Array(repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}

/// Walks an N-d index space row by row (the last axis is the inner run). For each run it
/// calls `body(start0, start1, count, step0, step1)` with element offsets of two operands
/// whose strides over `shape` are `s0` and `s1` (a 0 stride broadcasts).
@inline(__always)
func walkRows(_ shape: [Int], _ s0: [Int], _ s1: [Int], base0: Int = 0, base1: Int = 0,
              _ body: (Int, Int, Int, Int, Int) -> Void) {
    let rank = shape.count
    if rank == 0 { body(base0, base1, 1, 0, 0); return }
    if shape.contains(0) { return }
    let n = shape[rank - 1], i0 = s0[rank - 1], i1 = s1[rank - 1]
    if rank == 1 { body(base0, base1, n, i0, i1); return }
    var idx = Array(repeating: 0, count: rank - 1)
    var o0 = base0, o1 = base1
    while true {
        body(o0, o1, n, i0, i1)
        var k = rank - 2
        while k >= 0 {
            idx[k] += 1
            o0 += s0[k]
            o1 += s1[k]
            if idx[k] < shape[k] { break }
            o0 -= s0[k] * shape[k]
            o1 -= s1[k] * shape[k]
            idx[k] = 0
            k -= 1
        }
        if k < 0 { return }
    }
}

/// Strides of an operand of shape `shape` viewed in the (right-aligned) broadcast shape
/// `target`: 0 where it broadcasts.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let cs = contiguousStrides(shape)
    let lead = target.count - shape.count
    return target.indices.map { i in
        i < lead ? 0 : (shape[i - lead] == 1 && target[i] != 1 ? 0 : cs[i - lead])
    }
}
