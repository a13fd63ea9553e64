import Autograd
import Wire

/// Where the bytes of one array buffer (an array's values or its gradient buffer) come from in
/// a saved session.
enum BufferSource: Sendable, Equatable {
    /// The raw little-endian, row-major bytes.
    case bytes([UInt8])
    /// The same memory as an earlier buffer of the list: array `id`'s values, or its gradient
    /// buffer when `grad` is true (detached handles, `mark_variables` gradients that are arrays).
    case shared(id: String, grad: Bool)
}

/// One saved array: values, and gradient buffer with grad_req when it is a marked variable.
struct ArrayRecord: Sendable, Equatable {
    let id: String
    let dtype: DType
    let shape: [Int]
    let data: BufferSource
    let grad: (req: GradReq, buffer: BufferSource)?

    var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }

    static func == (a: ArrayRecord, b: ArrayRecord) -> Bool {
        a.id == b.id && a.dtype == b.dtype && a.shape == b.shape && a.data == b.data
            && a.grad?.req == b.grad?.req && a.grad?.buffer == b.grad?.buffer
    }
}

extension Session {
    /// The session's arrays in listing order. Buffers sharing memory with an earlier one are
    /// `.shared` (same shape and dtype only; other views are saved as copies), so a restore
    /// keeps aliasing and does not count shared memory twice.
    func records() -> [ArrayRecord] {
        var seen: [BufferKey: (id: String, grad: Bool)] = [:]
        func source(_ array: NDArray, id: String, grad: Bool) -> BufferSource {
            array.withUnsafeBytes { raw in
                guard let base = raw.baseAddress, raw.count > 0 else { return .bytes([]) }
                let key = BufferKey(address: UInt(bitPattern: base), count: raw.count, dtype: array.dtype, shape: array.shape)
                if let earlier = seen[key] { return .shared(id: earlier.id, grad: earlier.grad) }
                seen[key] = (id, grad)
                return .bytes(Array(raw))
            }
        }
        return arrays.order.compactMap { id in
            guard let array = arrays.lookup(id) else { return nil }
            let data = source(array, id: id, grad: false)
            let grad = array.grad.map { buffer in (req: array.gradReq ?? .write, buffer: source(buffer, id: id, grad: true)) }
            return ArrayRecord(id: id, dtype: array.dtype, shape: array.shape, data: data, grad: grad)
        }
    }

    /// Adds saved arrays to the session, all or nothing: ids, counts, element limits, the
    /// session budget and every shared reference are checked before anything is allocated.
    func load(_ records: [ArrayRecord]) throws(APIError) -> [(String, NDArray)] {
        try checkNewIDs(records.map(\.id))
        try checkArrayCount(adding: records.count)
        var bytes = 0
        var known: [String: ArrayRecord] = [:]
        for record in records {
            try checkAllocation(shape: record.shape, dtype: record.dtype)
            for (buffer, isGrad) in [(record.data, false)] + (record.grad.map { [($0.buffer, true)] } ?? []) {
                switch buffer {
                case .bytes(let data):
                    guard data.count == record.byteCount else {
                        throw APIError(.dataSizeMismatch, "Array '\(record.id)' has \(data.count) bytes of data; shape \(record.shape) of \(record.dtype.rawValue) needs \(record.byteCount).",
                                       ["array_id": .string(record.id)])
                    }
                    bytes += data.count
                case .shared(let other, let otherGrad):
                    // Only earlier buffers of the same shape and dtype can be shared.
                    guard let target = other == record.id && isGrad && !otherGrad ? record : known[other],
                          target.shape == record.shape, target.dtype == record.dtype,
                          !otherGrad || target.grad != nil else {
                        throw APIError(.invalidBody, "Array '\(record.id)' shares memory with '\(other)', which is not an earlier array of the same shape and dtype.",
                                       ["array_id": .string(record.id)])
                    }
                }
            }
            known[record.id] = record
        }
        guard context.allocatedBytes + bytes <= limits.maxBytes else {
            throw APIError(.sessionQuotaExceeded,
                           "Loading \(bytes) bytes would exceed the session budget of \(limits.maxBytes) bytes (\(context.allocatedBytes) in use).",
                           ["session_id": .string(id)])
        }
        var loaded: [(String, NDArray)] = []
        var byID: [String: NDArray] = [:]
        do throws(APIError) {
            for record in records {
                let array = try buffer(record.data, record, loaded: byID, fresh: true)
                arrays.insert(array, id: record.id)
                loaded.append((record.id, array))
                byID[record.id] = array
                if let (req, source) = record.grad {
                    let gradient = try buffer(source, record, loaded: byID, fresh: false)
                    try engine { () throws(AutogradError) in try context.markVariables([array], gradients: [gradient], gradReqs: [req]) }
                }
            }
        } catch {
            for (id, _) in loaded { arrays.remove(id) }
            throw error
        }
        return loaded
    }

    /// The array for one buffer: new memory from bytes, or the loaded buffer it shares (a new
    /// handle for array values, the very buffer for a gradient).
    private func buffer(_ source: BufferSource, _ record: ArrayRecord, loaded: [String: NDArray],
                        fresh: Bool) throws(APIError) -> NDArray {
        switch source {
        case .bytes(let data):
            let made = data.withUnsafeBytes { raw in
                Result { () throws(AutogradError) in try context.array(bytes: raw, shape: record.shape, dtype: record.dtype) }
            }
            return try engine { () throws(AutogradError) in try made.get() }
        case .shared(let other, let grad):
            guard let base = loaded[other], let target = grad ? base.grad : base else {
                throw APIError(.invalidBody, "Array '\(record.id)' shares memory with '\(other)', which is not loaded.")
            }
            return fresh ? context.detach(target) : target
        }
    }
}

/// Identity of a buffer's memory as seen through one array handle.
private struct BufferKey: Hashable {
    let address: UInt
    let count: Int
    let dtype: DType
    let shape: [Int]
}

/// A session's arrays as an `.npz` archive that `np.load` reads: member `<id>` holds an array's
/// values and `grad/<grad_req>/<id>` its gradient buffer (so `np.load(f)["grad/write/w"]`).
/// Shared memory is written as copies.
enum SessionNPZ {
    static let gradPrefix = "grad/"

    /// The archive of `records` (shared buffers resolved to copies).
    static func encode(_ records: [ArrayRecord]) throws(APIError) -> [UInt8] {
        var bytesByBuffer: [String: [UInt8]] = [:]
        func resolve(_ source: BufferSource, id: String, grad: Bool) -> [UInt8] {
            let bytes: [UInt8] = switch source {
            case .bytes(let data): data
            case .shared(let other, let otherGrad): bytesByBuffer[(otherGrad ? "g:" : "d:") + other] ?? []
            }
            bytesByBuffer[(grad ? "g:" : "d:") + id] = bytes
            return bytes
        }
        var members: [NPZMember] = []
        for record in records {
            let dtype = NPYCodec.npyDType(record.dtype)
            members.append(NPZMember(name: record.id, array: NPYArray(dtype: dtype, shape: record.shape,
                                                                        data: resolve(record.data, id: record.id, grad: false))))
            if let (req, buffer) = record.grad {
                members.append(NPZMember(name: gradPrefix + req.rawValue + "/" + record.id,
                                         array: NPYArray(dtype: dtype, shape: record.shape, data: resolve(buffer, id: record.id, grad: true))))
            }
        }
        do { return try NPZ.encode(members) } catch { throw APIError(error) }
    }

    /// The records of an archive written by ``encode(_:)`` or by `np.savez(f, **arrays)` (then
    /// without gradients). 0-d arrays become shape `[1]`.
    static func decode(_ bytes: [UInt8], maxElements: Int) throws(APIError) -> [ArrayRecord] {
        let members: [NPZMember]
        do { members = try NPZ.decode(bytes, maxElements: maxElements) } catch { throw APIError(error) }
        var grads: [String: (GradReq, NPYArray)] = [:]
        var values: [NPZMember] = []
        for member in members {
            guard member.name.hasPrefix(gradPrefix) else { values.append(member); continue }
            let rest = member.name.dropFirst(gradPrefix.count)
            guard let slash = rest.firstIndex(of: "/"), let req = GradReq(rawValue: String(rest[..<slash])) else {
                throw APIError(.invalidBody, "Archive member '\(member.name)' must be named grad/<null|write|add>/<array id>.")
            }
            let id = String(rest[rest.index(after: slash)...])
            guard grads.updateValue((req, member.array), forKey: id) == nil else {
                throw APIError(.invalidBody, "Archive has more than one gradient for array '\(id)'.", ["array_id": .string(id)])
            }
        }
        var records: [ArrayRecord] = []
        for member in values {
            let array = member.array
            let grad = grads.removeValue(forKey: member.name)
            if let grad, grad.1.dtype != array.dtype || grad.1.shape != array.shape {
                throw APIError(.shapeMismatch, "The gradient of '\(member.name)' must have its array's shape and dtype.",
                               ["array_id": .string(member.name)])
            }
            records.append(ArrayRecord(id: member.name, dtype: NPYCodec.dtype(array.dtype),
                                       shape: array.shape.isEmpty ? [1] : array.shape, data: .bytes(array.data),
                                       grad: grad.map { (req: $0.0, buffer: .bytes($0.1.data)) }))
        }
        if let orphan = grads.keys.sorted().first {
            throw APIError(.invalidBody, "Archive has a gradient for '\(orphan)' but no array '\(orphan)'.", ["array_id": .string(orphan)])
        }
        return records
    }
}
