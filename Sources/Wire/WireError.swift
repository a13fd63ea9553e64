/// An error decoding or encoding a wire format, with a message a user can act on.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, coarse enough to map onto an API error code.
    public enum Kind: String, Sendable {
        /// Malformed JSON (syntax, bare NaN/Infinity token, nesting too deep, input too large).
        case invalidJSON
        /// Malformed `.npy` or `.npz` bytes (bad magic, header, truncated data).
        case invalidNPY
        /// A dtype this service does not handle (bool, int8, float16, object, structured ...).
        case unsupportedDtype
        /// A memory layout this service does not handle (big-endian, Fortran order, compression).
        case unsupportedLayout
        /// More elements than the caller's limit, or an element count that overflows.
        case tooLarge
        /// A value that cannot be converted to the requested element type (range, integrality).
        case valueOutOfRange
    }

    /// The category of the error.
    public let kind: Kind
    /// The full human-readable message.
    public let message: String

    /// Creates an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
