import Autograd
import Wire

/// The durable part of a session (docs/DESIGN.md, "Durable sessions"): identity, owner,
/// timing, labels, flags and arrays with their gradient buffers. Recorded graphs, open scopes,
/// custom functions and the random generator's state are not part of it.
struct SessionSnapshot: Sendable, Equatable {
    let id: String
    let owner: String
    let createdAt: Double
    let idleTimeout: Double
    /// Absolute lifetime in seconds from `createdAt`, nil = none.
    let ttl: Double?
    let labels: [(String, String)]
    let flags: Flags
    let arrays: [ArrayRecord]

    static func == (a: SessionSnapshot, b: SessionSnapshot) -> Bool {
        a.id == b.id && a.owner == b.owner && a.createdAt == b.createdAt && a.idleTimeout == b.idleTimeout && a.ttl == b.ttl
            && a.labels.elementsEqual(b.labels, by: ==) && a.flags == b.flags && a.arrays == b.arrays
    }
}

/// Why a snapshot file cannot be restored.
struct SnapshotError: Error, Sendable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// What a snapshot may hold, checked from its header and metadata before anything is allocated.
struct SnapshotLimits: Sendable {
    let maxBytes: Int
    let maxArrayElements: Int
    let maxArrays: Int
    /// Room for the metadata (ids, shapes, labels) besides the array bytes.
    static let maxMetadataBytes = 64 << 20

    /// The largest snapshot file worth reading.
    var maxFileBytes: Int { SnapshotFormat.headerSize + Self.maxMetadataBytes + maxBytes }
}

/// The `.tsnap` file format, version 1 (all integers little-endian):
///
///     0   8  magic "TNSRSNAP"
///     8   4  format version (1)
///     12  4  CRC-32 of every byte from offset 24 to the end
///     16  8  length of the rest of the file (from offset 24)
///     24  4  metadata length M
///     28  M  metadata: JSON (id, owner, created_at, idle_timeout_s, ttl_s, labels, flags, arrays)
///     28+M   array bytes, in metadata order: each array's values, then its gradient buffer,
///            each omitted when it shares the memory of an earlier buffer
enum SnapshotFormat {
    static let magic: [UInt8] = Array("TNSRSNAP".utf8)
    static let version: UInt32 = 1
    static let headerSize = 24

    static func encode(_ snapshot: SessionSnapshot) -> [UInt8] {
        var arrays: [JSONValue] = []
        var payloads: [[UInt8]] = []
        func buffer(_ source: BufferSource) -> JSONValue {
            switch source {
            case .bytes(let data):
                payloads.append(data)
                return .null
            case .shared(let id, let grad):
                return object([("id", .string(id)), ("grad", .bool(grad))])
            }
        }
        for record in snapshot.arrays {
            var members: [(String, JSONValue)] = [
                ("id", .string(record.id)), ("dtype", .string(record.dtype.rawValue)),
                ("shape", .array(record.shape.map { .int($0) })), ("shared", buffer(record.data)),
            ]
            if let (req, source) = record.grad {
                members.append(("grad", object([("req", .string(req.rawValue)), ("shared", buffer(source))])))
            }
            arrays.append(object(members))
        }
        let metadata = JSONWriter.encode(object([
            ("id", .string(snapshot.id)), ("owner", .string(snapshot.owner)),
            ("created_at", .double(snapshot.createdAt)), ("idle_timeout_s", .double(snapshot.idleTimeout)),
            ("ttl_s", snapshot.ttl.map { .double($0) } ?? .null),
            ("labels", .array(snapshot.labels.map { .array([.string($0.0), .string($0.1)]) })),
            ("flags", object([("is_recording", .bool(snapshot.flags.isRecording)), ("is_training", .bool(snapshot.flags.isTraining))])),
            ("arrays", .array(arrays)),
        ]))
        // One buffer: the checksum and length are patched into the header at the end.
        var file = magic
        file.reserveCapacity(headerSize + 4 + metadata.count + payloads.reduce(0) { $0 + $1.count })
        append(&file, UInt64(version), bytes: 4)
        append(&file, 0, bytes: 12)
        append(&file, UInt64(metadata.count), bytes: 4)
        file += metadata
        for payload in payloads { file += payload }
        let checksum = file.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
        let length = UInt64(file.count - headerSize)
        for index in 0..<4 { file[12 + index] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(index))) }
        for index in 0..<8 { file[16 + index] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(index))) }
        return file
    }

    /// Parses and checks a snapshot file: magic, version, length, checksum, metadata, limits.
    static func decode(_ file: [UInt8], limits: SnapshotLimits) throws(SnapshotError) -> SessionSnapshot {
        guard file.count >= headerSize else { throw SnapshotError("truncated: \(file.count) bytes, shorter than the header") }
        guard Array(file[0..<8]) == magic else { throw SnapshotError("not a tensord snapshot (bad magic)") }
        let version = read(file, 8, bytes: 4)
        guard version == UInt64(Self.version) else { throw SnapshotError("unknown format version \(version)") }
        let length = read(file, 16, bytes: 8)
        guard length == UInt64(file.count - headerSize) else {
            throw SnapshotError("truncated or extended: header says \(length) bytes after the header, file has \(file.count - headerSize)")
        }
        let checksum = file.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
        guard UInt64(checksum) == read(file, 12, bytes: 4) else { throw SnapshotError("checksum mismatch") }
        guard file.count >= headerSize + 4 else { throw SnapshotError("truncated: no metadata length") }
        let metadataLength = Int(read(file, headerSize, bytes: 4))
        let metadataStart = headerSize + 4
        guard metadataLength <= SnapshotLimits.maxMetadataBytes, metadataLength <= file.count - metadataStart else {
            throw SnapshotError("metadata length \(metadataLength) out of bounds")
        }
        let json: JSONValue
        do {
            json = try file.withUnsafeBytes { raw in
                try Result { () throws(WireError) in
                    try JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[metadataStart..<(metadataStart + metadataLength)]))
                }.get()
            }
        } catch {
            throw SnapshotError("metadata: \(error)")
        }
        var reader = PayloadReader(file: file, offset: metadataStart + metadataLength)
        return try parse(json, limits: limits, payload: &reader)
    }

    private static func parse(_ json: JSONValue, limits: SnapshotLimits, payload: inout PayloadReader) throws(SnapshotError) -> SessionSnapshot {
        guard let id = json["id"]?.string, let owner = json["owner"]?.string,
              let createdAt = json["created_at"]?.number?.double, let idleTimeout = json["idle_timeout_s"]?.number?.double,
              let labelList = json["labels"]?.array, let recording = json["flags"]?["is_recording"]?.bool,
              let training = json["flags"]?["is_training"]?.bool, let arrayList = json["arrays"]?.array else {
            throw SnapshotError("metadata lacks a session member")
        }
        // JSON numbers are finite; bounded so that timestamps stay printable.
        guard (0...1e11).contains(createdAt), (0...1e11).contains(idleTimeout) else {
            throw SnapshotError("metadata: created_at or idle_timeout_s out of range")
        }
        // Absent or null: no lifetime.
        let ttl = json["ttl_s"]?.number?.double
        if let ttl, !(0...1e11).contains(ttl) { throw SnapshotError("metadata: ttl_s out of range") }
        var labels: [(String, String)] = []
        for label in labelList {
            guard let pair = label.array, pair.count == 2, let key = pair[0].string, let value = pair[1].string else {
                throw SnapshotError("metadata: a label is not a [key, value] pair of strings")
            }
            labels.append((key, value))
        }
        guard arrayList.count <= limits.maxArrays else {
            throw SnapshotError("\(arrayList.count) arrays, over the limit of \(limits.maxArrays)")
        }
        // Shapes and sizes first, so no byte is copied for a snapshot over the limits.
        var sizes: [(dtype: DType, shape: [Int], bytes: Int)] = []
        var total = 0
        for entry in arrayList {
            guard let name = entry["id"]?.string, let dtype = entry["dtype"]?.string.flatMap(DType.init(rawValue:)),
                  let dims = entry["shape"]?.array else { throw SnapshotError("metadata: malformed array entry") }
            var shape: [Int] = []
            var elements = 1
            for dim in dims {
                guard let value = dim.number?.int, value >= 0 else { throw SnapshotError("array '\(name)': bad shape") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: value)
                guard !overflow, product <= limits.maxArrayElements else {
                    throw SnapshotError("array '\(name)': more than \(limits.maxArrayElements) elements")
                }
                elements = product
                shape.append(value)
            }
            let bytes = elements * dtype.byteSize
            let buffers = (entry["shared"]?.isNull == true ? 1 : 0) + (entry["grad"]?["shared"]?.isNull == true ? 1 : 0)
            total += bytes * buffers
            guard total <= limits.maxBytes else { throw SnapshotError("arrays hold more than the session budget of \(limits.maxBytes) bytes") }
            sizes.append((dtype, shape, bytes))
        }
        guard total == payload.remaining else {
            throw SnapshotError("array bytes: metadata describes \(total), file holds \(payload.remaining)")
        }
        var records: [ArrayRecord] = []
        for (entry, size) in zip(arrayList, sizes) {
            let name = entry["id"]?.string ?? ""
            let data = try source(entry["shared"], bytes: size.bytes, payload: &payload, array: name)
            var grad: (req: GradReq, buffer: BufferSource)?
            if let gradEntry = entry["grad"] {
                guard let req = gradEntry["req"]?.string.flatMap(GradReq.init(rawValue:)) else {
                    throw SnapshotError("array '\(name)': bad grad_req")
                }
                grad = (req, try source(gradEntry["shared"], bytes: size.bytes, payload: &payload, array: name))
            }
            records.append(ArrayRecord(id: name, dtype: size.dtype, shape: size.shape, data: data, grad: grad))
        }
        return SessionSnapshot(id: id, owner: owner, createdAt: createdAt, idleTimeout: idleTimeout, ttl: ttl, labels: labels,
                               flags: Flags(isRecording: recording, isTraining: training), arrays: records)
    }

    private static func source(_ shared: JSONValue?, bytes: Int, payload: inout PayloadReader,
                               array: String) throws(SnapshotError) -> BufferSource {
        guard let shared else { throw SnapshotError("array '\(array)': no 'shared' member") }
        if shared.isNull { return .bytes(payload.take(bytes)) }
        guard let id = shared["id"]?.string, let grad = shared["grad"]?.bool else {
            throw SnapshotError("array '\(array)': malformed 'shared' member")
        }
        return .shared(id: id, grad: grad)
    }

    private static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { JSONMember($0.0, $0.1) }))
    }

    private static func append(_ out: inout [UInt8], _ value: UInt64, bytes: Int) {
        for index in 0..<bytes { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
    }

    private static func read(_ bytes: [UInt8], _ offset: Int, bytes count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
}

/// Hands out the array bytes of a snapshot in order (sizes were checked against the total first).
private struct PayloadReader {
    let file: [UInt8]
    var offset: Int

    var remaining: Int { file.count - offset }

    mutating func take(_ count: Int) -> [UInt8] {
        defer { offset += count }
        return Array(file[offset..<(offset + count)])
    }
}
