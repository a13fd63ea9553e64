@testable import Autograd

/// Gradient-check cases of the tier-2 operators; merged into `GradCases.all` so they join the
/// first- and second-order finite-difference checks of `OpGradTests`.
enum Tier2GradCases {
    static func n(_ s: [Int]) -> ([Int], Gen) { (s, .normal) }
    static func pos(_ s: [Int]) -> ([Int], Gen) { (s, .positive) }
    static func ints(_ v: [Int]) -> OpParam { .list(v.map { .int($0) }) }
    static func str(_ s: String) -> OpParam { .string(s) }

    static let all: [String: [GradCase]] = {
        var m: [String: [GradCase]] = [:]
        func add(_ cs: [GradCase]) { for c in cs { m[c.op, default: []].append(c) } }

        add([GradCase("Convolution", [n([2, 2, 5, 5]), n([3, 2, 3, 3]), n([3])], ["kernel": ints([3, 3]), "num_filter": .int(3)]),
             GradCase("Convolution", [n([1, 4, 6, 5]), n([4, 2, 2, 3])],
                      ["kernel": ints([2, 3]), "num_filter": .int(4), "num_group": .int(2), "stride": ints([2, 1]),
                       "pad": ints([1, 1]), "dilate": ints([1, 2]), "no_bias": .bool(true)]),
             GradCase("Convolution", [n([2, 2, 7]), n([2, 2, 3]), n([2])],
                      ["kernel": ints([3]), "num_filter": .int(2), "stride": ints([2]), "pad": ints([1]), "dilate": ints([2])])])
        add([GradCase("Deconvolution", [n([2, 3, 3, 3]), n([3, 2, 3, 3])], ["kernel": ints([3, 3]), "num_filter": .int(2)]),
             GradCase("Deconvolution", [n([1, 4, 3, 2]), n([4, 1, 2, 3]), n([2])],
                      ["kernel": ints([2, 3]), "num_filter": .int(2), "num_group": .int(2), "stride": ints([2, 2]),
                       "pad": ints([1, 0]), "adj": ints([1, 1]), "no_bias": .bool(false)]),
             GradCase("Deconvolution", [n([2, 2, 4]), n([2, 3, 3])],
                      ["kernel": ints([3]), "num_filter": .int(3), "stride": ints([2]), "target_shape": ints([8])])])
        add([GradCase("_conv_weight_grad", [n([2, 2, 4, 4]), n([2, 2, 2, 2])],
                      ["kernel": ints([3, 3]), "num_filter": .int(2), "pad": ints([1, 1]), "stride": ints([2, 2])]),
             GradCase("_conv_weight_grad", [n([1, 4, 5]), n([1, 2, 2])], ["kernel": ints([2]), "num_filter": .int(2), "num_group": .int(2),
                                                                          "dilate": ints([3])])])

        add([GradCase("Pooling", [n([2, 2, 4, 4])], ["kernel": ints([2, 2]), "stride": ints([2, 2])]),
             GradCase("Pooling", [n([1, 2, 5, 5])], ["kernel": ints([3, 3]), "stride": ints([2, 2]), "pad": ints([1, 1]),
                                                     "pooling_convention": str("full")]),
             GradCase("Pooling", [n([2, 2, 5, 4])], ["kernel": ints([3, 2]), "pool_type": str("avg"), "stride": ints([2, 1]),
                                                     "pad": ints([1, 1])]),
             GradCase("Pooling", [n([2, 2, 5, 4])], ["kernel": ints([3, 2]), "pool_type": str("avg"), "stride": ints([2, 1]),
                                                     "pad": ints([1, 1]), "count_include_pad": .bool(false), "pooling_convention": str("full")]),
             GradCase("Pooling", [n([2, 3, 6])], ["kernel": ints([3]), "pool_type": str("sum"), "stride": ints([2])]),
             GradCase("Pooling", [n([2, 3, 3, 2])], ["pool_type": str("avg"), "global_pool": .bool(true)]),
             GradCase("Pooling", [n([2, 3, 3, 2])], ["global_pool": .bool(true)])])
        add([GradCase("Convolution", [n([1, 4, 3, 4, 3]), n([2, 2, 2, 2, 2]), n([2])],
                      ["kernel": ints([2, 2, 2]), "num_filter": .int(2), "num_group": .int(2), "stride": ints([1, 2, 1]), "pad": ints([1, 0, 1])]),
             GradCase("Deconvolution", [n([1, 2, 2, 2, 3]), n([2, 1, 2, 2, 2])], ["kernel": ints([2, 2, 2]), "num_filter": .int(1),
                                                                                "stride": ints([2, 1, 2]), "adj": ints([1, 0, 0])]),
             GradCase("_conv_weight_grad", [n([1, 2, 3, 3, 3]), n([1, 2, 2, 2, 2])], ["kernel": ints([2, 2, 2]), "num_filter": .int(2)]),
             GradCase("Pooling", [n([1, 2, 4, 3, 4])], ["kernel": ints([2, 2, 2]), "stride": ints([2, 1, 2])]),
             GradCase("Pooling", [n([1, 1, 3, 4, 3])], ["kernel": ints([2, 3, 2]), "pool_type": str("avg"), "pad": ints([1, 1, 0]),
                                                        "count_include_pad": .bool(false), "pooling_convention": str("full")])])
        add([GradCase("_pooling_adjoint", [n([2, 2, 2, 2])], ["kernel": ints([3, 3]), "pool_type": str("avg"), "stride": ints([2, 2]),
                                                               "pad": ints([1, 1]), "in_shape": ints([2, 2, 4, 4])]),
             GradCase("_pooling_adjoint", [n([1, 2, 3])], ["kernel": ints([2]), "pool_type": str("sum"), "in_shape": ints([1, 2, 4])])])

        add([GradCase("LayerNorm", [n([2, 3, 2]), n([3]), n([3])], ["axis": .int(1), "eps": .double(1e-3)])])
        add([GradCase("InstanceNorm", [n([2, 3, 4]), n([3]), n([3])]), GradCase("InstanceNorm", [n([1, 2, 2, 3]), n([2]), n([2])])])
        add([GradCase("GroupNorm", [n([2, 4, 3]), n([2]), n([2])], ["num_groups": .int(2)]),
             GradCase("GroupNorm", [n([2, 2, 2, 2]), n([1]), n([1])], ["output_mean_var": .bool(true)])])
        add([GradCase("L2Normalization", [n([2, 3, 2])]), GradCase("L2Normalization", [n([2, 3, 2])], ["mode": str("channel")]),
             GradCase("L2Normalization", [n([2, 2, 3])], ["mode": str("spatial"), "eps": .double(0.1)])])
        add([GradCase("smooth_l1", [n([5])], ["scalar": .double(2)])])
        add([GradCase("erfinv", [([2, 3], .unit)]), GradCase("gamma", [pos([2, 3])]), GradCase("gammaln", [pos([5])]),
             GradCase("gammaln", [([4], .fixed([-0.5, -1.5, 3.5, 0.3]))])])
        add([GradCase("_polygamma", [pos([4])]), GradCase("_polygamma", [pos([4])], ["n": .int(2)])])
        add([GradCase("Embedding", [([2, 3], .index(5)), n([5, 4])], ["input_dim": .int(5), "output_dim": .int(4)])])
        add([GradCase("sort", [n([3, 4])]), GradCase("sort", [n([3, 4])], ["axis": .int(0), "is_ascend": .bool(false)]),
             GradCase("sort", [n([2, 3])], ["axis": .null])])
        add([GradCase("cumsum", [n([2, 3, 2])], ["axis": .int(1)]), GradCase("cumsum", [n([2, 3])]),
             GradCase("cumsum", [n([3, 2])], ["axis": .int(-1)])])
        add([GradCase("pad", [n([1, 2, 3, 3])], ["pad_width": ints([0, 0, 0, 0, 1, 2, 2, 1]), "constant_value": .double(0.5)]),
             GradCase("pad", [n([1, 2, 3, 3])], ["mode": str("edge"), "pad_width": ints([0, 0, 0, 0, 2, 1, 0, 3])]),
             GradCase("pad", [n([1, 1, 3, 2, 3])], ["mode": str("reflect"), "pad_width": ints([0, 0, 0, 0, 2, 1, 1, 1, 0, 2])])])
        add([GradCase("_pad_adjoint", [n([1, 2, 4, 5])], ["mode": str("reflect"), "pad_width": ints([0, 0, 0, 0, 1, 0, 1, 1]),
                                                         "in_shape": ints([1, 2, 3, 3])])])
        add([GradCase("slice_like", [n([3, 4]), n([2, 3])]), GradCase("slice_like", [n([3, 4, 2]), n([1, 2])], ["axes": ints([-2])])])
        add([GradCase("SequenceMask", [n([4, 3, 2]), ([3], .index(5))], ["use_sequence_length": .bool(true), "value": .double(-1)]),
             GradCase("SequenceMask", [n([3, 4]), ([3], .index(5))], ["use_sequence_length": .bool(true), "axis": .int(1)]),
             GradCase("SequenceMask", [n([3, 2])])])
        add([GradCase("UpSampling", [n([1, 2, 2, 3])], ["scale": .int(2), "sample_type": str("nearest")]),
             GradCase("UpSampling", [n([2, 1, 2, 2]), n([2, 2, 1, 1])], ["scale": .int(2), "sample_type": str("nearest"), "num_args": .int(2)]),
             GradCase("UpSampling", [n([1, 2, 2, 2]), n([1, 2, 4, 4])], ["scale": .int(2), "sample_type": str("nearest"), "num_args": .int(2),
                                                                         "multi_input_mode": str("sum")])])
        add([GradCase("LeakyReLU", [n([2, 3, 2]), n([3])], ["act_type": str("prelu")]),
             GradCase("LeakyReLU", [n([2, 3]), n([1])], ["act_type": str("prelu")]),
             GradCase("LeakyReLU", [n([2, 3])], ["act_type": str("rrelu"), "lower_bound": .double(0.1), "upper_bound": .double(0.5)])])
        return m
    }()
}
