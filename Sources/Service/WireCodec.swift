import Autograd
import HTTP
import Wire

extension APIError {
    /// Maps a wire-format error to its API code (one switch), keeping Wire's message.
    init(_ error: WireError) {
        let code: Code = switch error.kind {
        case .invalidJSON, .invalidNPY: .invalidBody
        case .unsupportedDtype: .unsupportedDType
        case .unsupportedLayout: .unsupportedLayout
        case .tooLarge: .arrayTooLarge
        case .valueOutOfRange: .invalidArgument
        }
        self.init(code, error.message)
    }
}

/// JSON request bodies through Wire's parser.
enum JSONCodec {
    static func parse(_ bytes: [UInt8]) throws(APIError) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch { throw APIError(error) }
    }
}

/// `.npy` bodies through Wire, mapped to engine dtypes.
enum NPYCodec {
    /// Decodes an `.npy` body (v1.0-3.0); a 0-d array becomes shape `[1]` (MXNet has no 0-d arrays).
    /// The values stay in the body (a slice, no copy).
    static func decode(_ bytes: [UInt8], maxElements: Int) throws(APIError) -> TensorInput {
        let header = bytes.withUnsafeBytes { raw in
            Result { () throws(WireError) in try NPY.readHeader(raw, maxElements: maxElements) }
        }
        let h: NPYHeader
        do { h = try header.get() } catch { throw APIError(error) }
        return .bytes(bytes[h.dataRange], shape: h.shape.isEmpty ? [1] : h.shape, dtype: dtype(h.dtype))
    }

    /// `?dtype=`: the npy values converted to another dtype (through Double, as numpy's astype
    /// does for these types).
    static func cast(_ tensor: TensorInput, to target: DType) -> TensorInput {
        guard case .bytes(let bytes, let shape, let dtype) = tensor, dtype != target else { return tensor }
        let values: [Double] = bytes.withUnsafeBytes { raw in
            switch dtype {
            case .float32: raw.bindMemory(to: Float.self).map(Double.init)
            case .float64: Array(raw.bindMemory(to: Double.self))
            case .int32: raw.bindMemory(to: Int32.self).map(Double.init)
            case .int64: raw.bindMemory(to: Int64.self).map(Double.init)
            case .uint8: raw.bindMemory(to: UInt8.self).map(Double.init)
            }
        }
        return .json(NumericArray(values: values, shape: [values.count]), shape: shape, dtype: target)
    }

    /// Writes an array as a version 1.0 `.npy` file.
    /// Header and values go straight into one buffer of the final size (one copy of the values).
    static func encode(_ array: NDArray) -> [UInt8] {
        let header = NPY.header(dtype: npyDType(array.dtype), shape: array.shape)
        return array.withUnsafeBytes { data in
            LargeBuffer.filled(count: header.count + data.count) { out in
                header.withUnsafeBytes { out.copyMemory(from: $0) }
                if let source = data.baseAddress, data.count > 0 {
                    (out.baseAddress! + header.count).copyMemory(from: source, byteCount: data.count)
                }
            }
        }
    }

    static func dtype(_ npy: NPYDType) -> DType {
        switch npy {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        }
    }

    static func npyDType(_ dtype: DType) -> NPYDType {
        switch dtype {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        }
    }
}
