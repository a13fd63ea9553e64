import Testing
@testable import Autograd

private func ints(_ v: [Int]) -> OpParam { .list(v.map { .int($0) }) }

@Suite struct Tier2SequenceTests {
    @Test("Embedding picks weight rows by (clipped) index and accumulates repeated rows in the gradient")
    func embedding() throws {
        let c = Context()
        let w = try c.array((0..<8).map(Double.init), shape: [4, 2])
        let idx = try c.array([3, 0, 3, 7], shape: [2, 2])
        c.attachGrad(w)
        let y = try c.record { try c.invoke("Embedding", [idx, w], ["input_dim": .int(4), "output_dim": .int(2)])[0] }
        #expect(y.shape == [2, 2, 2])
        #expect(y.toDoubles() == [6, 7, 0, 1, 6, 7, 6, 7])
        try c.backward([y])
        #expect(w.grad?.toDoubles() == [1, 1, 0, 0, 0, 0, 3, 3])
        expectError(.shapeMismatch) { _ = try c.invoke("Embedding", [idx, w], ["input_dim": .int(5), "output_dim": .int(2)]) }
    }

    @Test("sort and argsort along an axis, descending, and flattened")
    func sorting() throws {
        let c = Context()
        let x = try c.array([3, 1, 2, 0, 5, 4], shape: [2, 3])
        #expect(try c.invoke("sort", [x])[0].toDoubles() == [1, 2, 3, 0, 4, 5])
        #expect(try c.invoke("sort", [x], ["axis": .int(0), "is_ascend": .bool(false)])[0].toDoubles() == [3, 5, 4, 0, 1, 2])
        let flat = try c.invoke("sort", [x], ["axis": .null])[0]
        #expect(flat.shape == [6] && flat.toDoubles() == [0, 1, 2, 3, 4, 5])
        let order = try c.invoke("argsort", [x])[0]
        #expect(order.dtype == .float32 && order.toDoubles() == [1, 2, 0, 0, 2, 1])
        #expect(try c.invoke("argsort", [x], ["dtype": .string("int32"), "is_ascend": .bool(false)])[0].toDoubles() == [0, 2, 1, 1, 2, 0])
    }

    @Test("cumsum along an axis, over the flattened array, and with an output dtype")
    func cumsum() throws {
        let c = Context()
        let x = try c.array([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(try c.invoke("cumsum", [x], ["axis": .int(1)])[0].toDoubles() == [1, 3, 6, 4, 9, 15])
        #expect(try c.invoke("cumsum", [x], ["axis": .int(0)])[0].toDoubles() == [1, 2, 3, 5, 7, 9])
        let flat = try c.invoke("cumsum", [x], ["dtype": .string("float64")])[0]
        #expect(flat.shape == [6] && flat.dtype == .float64 && flat.toDoubles() == [1, 3, 6, 10, 15, 21])
    }

    @Test("pad: constant, edge and reflect match NumPy's modes on the spatial axes")
    func pad() throws {
        let c = Context()
        let x = try c.array([1, 2, 3, 4, 5, 6], shape: [1, 1, 2, 3])
        let width = ints([0, 0, 0, 0, 1, 0, 2, 1])
        let k = try c.invoke("pad", [x], ["pad_width": width, "constant_value": .double(9)])[0]
        #expect(k.shape == [1, 1, 3, 6])
        #expect(k.toDoubles() == [9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9])
        let e = try c.invoke("pad", [x], ["mode": .string("edge"), "pad_width": width])[0]
        #expect(e.toDoubles() == [1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6])
        let r = try c.invoke("pad", [x], ["mode": .string("reflect"), "pad_width": width])[0]
        #expect(r.toDoubles() == [6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5])
        expectError(.invalidParameter) { _ = try c.invoke("pad", [x], ["pad_width": ints([1, 0, 0, 0, 0, 0, 0, 0])]) }
        expectError(.invalidParameter) { _ = try c.invoke("pad", [x], ["mode": .string("reflect"), "pad_width": ints([0, 0, 0, 0, 2, 0, 0, 0])]) }
        expectError(.shapeMismatch) { _ = try c.invoke("pad", [try c.array([1, 2], shape: [1, 2])], ["pad_width": ints([0, 0, 1, 1])]) }
    }

    @Test("slice_like keeps the leading part of the chosen axes")
    func sliceLike() throws {
        let c = Context()
        let x = try c.array((0..<12).map(Double.init), shape: [3, 4])
        let like = try c.array([0, 0], shape: [1, 2])
        #expect(try c.invoke("slice_like", [x, like])[0].toDoubles() == [0, 1])
        let cols = try c.invoke("slice_like", [x, like], ["axes": ints([1])])[0]
        #expect(cols.shape == [3, 2] && cols.toDoubles() == [0, 1, 4, 5, 8, 9])
        expectError(.shapeMismatch) { _ = try c.invoke("slice_like", [like, x]) }
    }

    @Test("SequenceMask sets steps beyond each length to value on axis 0 and axis 1; identity without lengths")
    func sequenceMask() throws {
        let c = Context()
        let x = try c.array((1...6).map(Double.init), shape: [3, 2])
        let len = try c.array([1, 3], shape: [2])
        #expect(try c.invoke("SequenceMask", [x, len], ["use_sequence_length": .bool(true), "value": .double(-1)])[0].toDoubles()
            == [1, 2, -1, 4, -1, 6])
        let bt = try c.array((1...6).map(Double.init), shape: [2, 3])
        #expect(try c.invoke("SequenceMask", [bt, len], ["use_sequence_length": .bool(true), "axis": .int(1)])[0].toDoubles()
            == [1, 0, 0, 4, 5, 6])
        #expect(try c.invoke("SequenceMask", [x, len])[0].toDoubles() == [1, 2, 3, 4, 5, 6])
        expectError(.shapeMismatch) {
            _ = try c.invoke("SequenceMask", [x, try c.array([1, 2, 3], shape: [3])], ["use_sequence_length": .bool(true)])
        }
    }

    @Test("UpSampling nearest repeats each pixel scale×scale times; several inputs concat or sum")
    func upsampling() throws {
        let c = Context()
        let x = try c.array([1, 2, 3, 4], shape: [1, 1, 2, 2])
        let y = try c.invoke("UpSampling", [x], ["scale": .int(2), "sample_type": .string("nearest")])[0]
        #expect(y.shape == [1, 1, 4, 4])
        #expect(y.toDoubles() == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let small = try c.array([7], shape: [1, 1, 1, 1])
        let cat = try c.invoke("UpSampling", [x, small], ["scale": .int(2), "sample_type": .string("nearest"), "num_args": .int(2)])[0]
        #expect(cat.shape == [1, 2, 4, 4] && cat.toDoubles().suffix(16).allSatisfy { $0 == 7 })
        let sum = try c.invoke("UpSampling", [x, small], ["scale": .int(2), "sample_type": .string("nearest"), "num_args": .int(2),
                                                          "multi_input_mode": .string("sum")])[0]
        #expect(sum.toDoubles() == y.toDoubles().map { $0 + 7 })
        expectError(.invalidParameter) { _ = try c.invoke("UpSampling", [x], ["scale": .int(2), "sample_type": .string("bilinear")]) }
    }
}
