import Glibc

/// One autograd session: the recording/training flags, the scope rules, array allocation
/// with limits, and the random generator. Not thread-safe and not `Sendable`: a context and
/// its arrays are confined to one thread at a time.
public final class Context {
    /// Allocation limits, checked before allocating.
    public struct Limits: Sendable {
        public var maxElements: Int
        public var maxBytes: Int
        public init(maxElements: Int = 1 << 28, maxBytes: Int = 1 << 30) {
            self.maxElements = maxElements
            self.maxBytes = maxBytes
        }
    }

    /// The four MXNet scopes.
    public enum ScopeKind: String, Sendable { case record, pause, trainMode = "train_mode", predictMode = "predict_mode" }

    /// What `exitScope` needs to restore the flags by MXNet's rule.
    public struct ScopeToken: Sendable {
        public let kind: ScopeKind
        let setRecording: Bool?, previousRecording: Bool
        let setTraining: Bool?, previousTraining: Bool
    }

    /// The allocation limits of this context.
    public let limits: Limits
    let accounting = Accounting()
    var rng: RandomState
    /// MXNet is_recording: ops on graph arrays are recorded.
    public private(set) var isRecording = false
    /// MXNet is_training: Dropout and BatchNorm use their training behaviour.
    public private(set) var isTraining = false
    var nextNodeID = 0
    var epoch = 0

    /// A fresh context: both flags off, the random generator seeded with `seed`.
    public init(seed: UInt64 = 0, limits: Limits = .init()) {
        self.limits = limits
        self.rng = RandomState(seed: seed)
    }

    /// Live storage bytes owned by this context (arrays, gradient buffers, saved tensors).
    public var allocatedBytes: Int { accounting.allocatedBytes }
    /// Bytes held only by recorded graphs (no array handle refers to them).
    public var graphBytes: Int { accounting.graphBytes }

    /// Reseeds the random generator (mx.random.seed).
    public func seed(_ value: UInt64) { rng = RandomState(seed: value) }

    // MARK: flags and scopes

    /// Sets is_recording and returns the previous value.
    @discardableResult public func setRecording(_ on: Bool) -> Bool {
        let old = isRecording
        isRecording = on
        return old
    }

    /// Sets is_training and returns the previous value.
    @discardableResult public func setTraining(_ on: Bool) -> Bool {
        let old = isTraining
        isTraining = on
        return old
    }

    /// Enters a scope: `record` (recording on, training = trainMode ?? true), `pause` (recording off,
    /// training = trainMode ?? false), `trainMode`, `predictMode`.
    public func enterScope(_ kind: ScopeKind, trainMode: Bool? = nil) -> ScopeToken {
        let rec: Bool?, train: Bool?
        switch kind {
        case .record: rec = true; train = trainMode ?? true
        case .pause: rec = false; train = trainMode ?? false
        case .trainMode: rec = nil; train = true
        case .predictMode: rec = nil; train = false
        }
        let prevRec = rec.map { setRecording($0) } ?? isRecording
        let prevTrain = train.map { setTraining($0) } ?? isTraining
        return ScopeToken(kind: kind, setRecording: rec, previousRecording: prevRec, setTraining: train, previousTraining: prevTrain)
    }

    /// Leaves a scope. MXNet's rule: a flag is restored only if the saved value differs from
    /// the value the scope set.
    public func exitScope(_ token: ScopeToken) {
        if let r = token.setRecording, r != token.previousRecording { setRecording(token.previousRecording) }
        if let t = token.setTraining, t != token.previousTraining { setTraining(token.previousTraining) }
    }

    /// `with autograd.record(train_mode):`
    public func record<R>(trainMode: Bool = true, _ body: () throws -> R) rethrows -> R {
        let t = enterScope(.record, trainMode: trainMode)
        defer { exitScope(t) }
        return try body()
    }

    /// `with autograd.pause(train_mode):`
    public func pause<R>(trainMode: Bool = false, _ body: () throws -> R) rethrows -> R {
        let t = enterScope(.pause, trainMode: trainMode)
        defer { exitScope(t) }
        return try body()
    }

    /// `with autograd.train_mode():`
    public func trainMode<R>(_ body: () throws -> R) rethrows -> R {
        let t = enterScope(.trainMode)
        defer { exitScope(t) }
        return try body()
    }

    /// `with autograd.predict_mode():`
    public func predictMode<R>(_ body: () throws -> R) rethrows -> R {
        let t = enterScope(.predictMode)
        defer { exitScope(t) }
        return try body()
    }

    // MARK: arrays

    /// Allocates an uninitialised array, checking the limits first.
    func empty(_ shape: [Int], _ dtype: DType) throws -> NDArray {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw AutogradError(.invalidParameter, "negative dimension in shape \(shapeText(shape))") }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { throw AutogradError(.arrayTooLarge, "array of shape \(shapeText(shape)) is too large") }
            n = p
        }
        guard n <= limits.maxElements else {
            throw AutogradError(.arrayTooLarge, "array of shape \(shapeText(shape)) has \(n) elements, over the limit of \(limits.maxElements)")
        }
        let bytes = n * dtype.byteSize
        guard accounting.allocatedBytes + bytes <= limits.maxBytes else {
            throw AutogradError(.limitExceeded, "allocating \(bytes) bytes would exceed the context's memory limit of \(limits.maxBytes) bytes (\(accounting.allocatedBytes) in use)")
        }
        return NDArray(context: self, storage: Storage(byteCount: bytes, accounting: accounting), shape: shape, dtype: dtype)
    }

    /// A zero-filled array.
    func zeros(_ shape: [Int], _ dtype: DType) throws -> NDArray {
        let a = try empty(shape, dtype)
        memset(a.storage.data, 0, a.byteCount)
        return a
    }

    /// Creates an array from values (converted to `dtype`).
    public func array(_ values: [Double], shape: [Int], dtype: DType = .float32) throws(AutogradError) -> NDArray {
        try typed {
            let a = try empty(shape, dtype)
            guard values.count == a.size else {
                throw AutogradError(.shapeMismatch, "\(values.count) values do not fill shape \(shapeText(shape)) (\(a.size) elements)")
            }
            Kernels.fill(a, values)
            return a
        }
    }

    /// Creates an array from raw little-endian row-major bytes.
    public func array(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws(AutogradError) -> NDArray {
        try typed {
            let a = try empty(shape, dtype)
            guard bytes.count == a.byteCount else {
                throw AutogradError(.shapeMismatch, "\(bytes.count) bytes do not fill shape \(shapeText(shape)) of \(dtype.rawValue) (\(a.byteCount) bytes)")
            }
            if a.byteCount > 0 { a.storage.data.copyMemory(from: bytes.baseAddress!, byteCount: a.byteCount) }
            return a
        }
    }

    /// `x[:] = v`: writes `source` into `target` in place (same shape; a scalar-sized source
    /// broadcasts; the dtype is converted). Inside `record`, MXNet's §9 rules reject writes to
    /// arrays in a graph and writes from graph arrays.
    public func assign(_ target: NDArray, from source: NDArray) throws(AutogradError) {
        try typed {
            try checkInplace(targets: [target], inputs: [source])
            guard source.shape == target.shape || source.size == 1 else {
                throw AutogradError(.shapeMismatch, "cannot assign an array of shape \(shapeText(source.shape)) to one of shape \(shapeText(target.shape))")
            }
            Kernels.assign(target, from: source)
        }
    }

    /// `x[:] = v` from raw little-endian row-major bytes of `target`'s own dtype and size,
    /// copied straight into `target` (no temporary array); the in-place rules of
    /// ``assign(_:from:)`` apply.
    public func assign(_ target: NDArray, bytes: UnsafeRawBufferPointer) throws(AutogradError) {
        try typed {
            try checkInplace(targets: [target], inputs: [])
            guard bytes.count == target.byteCount else {
                throw AutogradError(.shapeMismatch, "\(bytes.count) bytes do not fill shape \(shapeText(target.shape)) of \(target.dtype.rawValue) (\(target.byteCount) bytes)")
            }
            if target.byteCount > 0 { target.storage.data.copyMemory(from: bytes.baseAddress!, byteCount: target.byteCount) }
        }
    }

    /// A new handle sharing `x`'s memory, with no history.
    public func detach(_ x: NDArray) -> NDArray {
        NDArray(context: self, storage: x.storage, shape: x.shape, dtype: x.dtype)
    }

    /// The in-place rules inside `record` (MXNet §9).
    func checkInplace(targets: [NDArray], inputs: [NDArray]) throws {
        guard isRecording else { return }
        if targets.contains(where: { $0.isInGraph }) { throw AutogradError(.inplaceOnGraphArray, MXNetText.inplaceOnGraphArray) }
        if inputs.contains(where: { $0.isInGraph }) { throw AutogradError(.inplaceWhileRecording, MXNetText.inplaceWhileRecording) }
    }

    func newNodeID() -> Int {
        nextNodeID += 1
        return nextNodeID
    }

    // MARK: variables

    /// Marks `x` as a variable with a fresh zero gradient buffer (re-attaching resets it).
    public func attachGrad(_ x: NDArray, gradReq: GradReq = .write) {
        // Allocation of the buffer is bounded by x's own size, which was already admitted.
        let buffer = NDArray(context: self, storage: Storage(byteCount: x.byteCount, accounting: accounting), shape: x.shape, dtype: x.dtype)
        memset(buffer.storage.data, 0, buffer.byteCount)
        x.entry = Entry(node: .variable(id: newNodeID(), array: x, gradBuffer: buffer, gradReq: gradReq), index: 0)
    }

    /// Marks variables with caller-provided gradient buffers (`grad_reqs` of length 1 applies to all).
    public func markVariables(_ variables: [NDArray], gradients: [NDArray], gradReqs: [GradReq]) throws(AutogradError) {
        guard variables.count == gradients.count else {
            throw AutogradError(.invalidArgument, "variables and gradients must have the same length (\(variables.count) vs \(gradients.count))")
        }
        guard gradReqs.count == variables.count || gradReqs.count == 1 else {
            throw AutogradError(.invalidArgument, "grad_reqs must have one entry or one per variable (\(gradReqs.count) for \(variables.count) variables)")
        }
        for (v, g) in zip(variables, gradients) {
            guard v.shape == g.shape else {
                throw AutogradError(.shapeMismatch, "gradient buffer shape \(shapeText(g.shape)) does not match variable shape \(shapeText(v.shape))")
            }
            guard v.dtype == g.dtype else {
                throw AutogradError(.dtypeMismatch, "gradient buffer dtype \(g.dtype.rawValue) does not match variable dtype \(v.dtype.rawValue)")
            }
        }
        for (i, (v, g)) in zip(variables, gradients).enumerated() {
            let req = gradReqs.count == 1 ? gradReqs[0] : gradReqs[i]
            v.entry = Entry(node: .variable(id: newNodeID(), array: v, gradBuffer: g, gradReq: req), index: 0)
        }
    }
}

/// xoshiro256** seeded through splitmix64: fast, reproducible per context.
struct RandomState {
    var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var z = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var r = x
            r = (r ^ (r >> 30)) &* 0xBF58_476D_1CE4_E5B9
            r = (r ^ (r >> 27)) &* 0x94D0_49BB_1331_11EB
            return r ^ (r >> 31)
        }
        s = (splitmix(&z), splitmix(&z), splitmix(&z), splitmix(&z))
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u1 = max(uniform(), .leastNonzeroMagnitude)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * uniform())
    }
}
