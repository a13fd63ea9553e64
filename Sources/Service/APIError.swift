import Autograd

/// An error the API reports to the client as an RFC 9457 `application/problem+json` body.
///
/// Every `code` of docs/API.md is a case of ``Code``; its HTTP status and title live in one
/// switch each, so a code cannot drift from its status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// The stable, machine-readable error codes (the `code` member and the `type` URI suffix).
    public enum Code: String, Sendable, CaseIterable {
        case invalidBody = "invalid-body"
        case invalidArgument = "invalid-argument"
        case unsupportedMediaType = "unsupported-media-type"
        case notAcceptable = "not-acceptable"
        case bodyTooLarge = "body-too-large"
        case dataSizeMismatch = "data-size-mismatch"
        case unsupportedDType = "unsupported-dtype"
        case unsupportedLayout = "unsupported-layout"
        case shapeMismatch = "shape-mismatch"
        case dtypeMismatch = "dtype-mismatch"
        case invalidAttribute = "invalid-attribute"
        case notDifferentiable = "not-differentiable"
        case arrayTooLarge = "array-too-large"
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case sessionNotFound = "session-not-found"
        case arrayNotFound = "array-not-found"
        case unknownOp = "unknown-op"
        case gradNotAttached = "grad-not-attached"
        case arrayExists = "array-exists"
        case notRecorded = "not-recorded"
        case graphFreed = "graph-freed"
        case noGradVariables = "no-grad-variables"
        case variableNotAttached = "variable-not-attached"
        case variableUnreachable = "variable-unreachable"
        case inplaceInGraph = "inplace-in-graph"
        case inplaceWhileRecording = "inplace-while-recording"
        case notInGraph = "not-in-graph"
        case scopeOrder = "scope-order"
        case functionReused = "function-reused"
        case sessionQuotaExceeded = "session-quota-exceeded"
        case tooManySessions = "too-many-sessions"
        case capacity = "capacity"
        case rateLimited = "rate-limited"
        case unauthorized = "unauthorized"
        case `internal` = "internal"

        /// The HTTP status for this code (the table in docs/API.md).
        public var status: Int {
            switch self {
            case .invalidBody, .invalidArgument: 400
            case .unauthorized: 401
            case .notFound, .sessionNotFound, .arrayNotFound, .unknownOp, .gradNotAttached: 404
            case .methodNotAllowed: 405
            case .notAcceptable: 406
            case .arrayExists, .notRecorded, .graphFreed, .noGradVariables, .variableNotAttached,
                 .inplaceInGraph, .inplaceWhileRecording, .notInGraph, .scopeOrder, .functionReused,
                 .sessionQuotaExceeded, .tooManySessions: 409
            case .bodyTooLarge: 413
            case .unsupportedMediaType: 415
            case .dataSizeMismatch, .unsupportedDType, .unsupportedLayout, .shapeMismatch, .dtypeMismatch,
                 .invalidAttribute, .notDifferentiable, .arrayTooLarge, .variableUnreachable: 422
            case .rateLimited: 429
            case .internal: 500
            case .capacity: 503
            }
        }

        /// The short, occurrence-independent `title`.
        public var title: String {
            switch self {
            case .invalidBody: "Malformed request body"
            case .invalidArgument: "Invalid argument"
            case .unsupportedMediaType: "Unsupported media type"
            case .notAcceptable: "Not acceptable"
            case .bodyTooLarge: "Request body too large"
            case .dataSizeMismatch: "Data size does not match shape"
            case .unsupportedDType: "Unsupported dtype"
            case .unsupportedLayout: "Unsupported array layout"
            case .shapeMismatch: "Shape mismatch"
            case .dtypeMismatch: "Dtype mismatch"
            case .invalidAttribute: "Invalid operator attribute"
            case .notDifferentiable: "Not differentiable"
            case .arrayTooLarge: "Array too large"
            case .notFound: "Not found"
            case .methodNotAllowed: "Method not allowed"
            case .sessionNotFound: "Session not found"
            case .arrayNotFound: "Array not found"
            case .unknownOp: "Unknown operator"
            case .gradNotAttached: "Gradient not attached"
            case .arrayExists: "Array id already in use"
            case .notRecorded: "Head not recorded"
            case .graphFreed: "Graph already freed"
            case .noGradVariables: "No variable requires a gradient"
            case .variableNotAttached: "Variable does not require a gradient"
            case .variableUnreachable: "Variable unreachable from the heads"
            case .inplaceInGraph: "In-place write to an array in a graph"
            case .inplaceWhileRecording: "In-place write while recording"
            case .notInGraph: "Array not in a graph"
            case .scopeOrder: "Scope is not the innermost"
            case .functionReused: "Function instance already called"
            case .sessionQuotaExceeded: "Session quota exceeded"
            case .tooManySessions: "Too many sessions for this key"
            case .capacity: "At capacity"
            case .rateLimited: "Rate limited"
            case .unauthorized: "Unauthorized"
            case .internal: "Internal error"
            }
        }
    }

    /// An extension member value (RFC 9457 §3.2).
    public enum Extension: Sendable, Equatable {
        case string(String)
        case int(Int)
        case ints([Int])
        case strings([String])
    }

    /// The stable error code.
    public var code: Code
    /// Human explanation of this occurrence; MXNet's exact text for engine errors.
    public var detail: String
    /// Extension members (`session_id`, `array_id`, `op`, `step`, `expected`, `actual`, `reason`, `hint`, ...).
    public var extensions: [String: Extension]
    /// Extra response headers (`Allow`, `Retry-After`).
    public var headers: [(String, String)]

    /// An error with its code, detail, extension members and extra headers.
    public init(_ code: Code, _ detail: String, _ extensions: [String: Extension] = [:],
                headers: [(String, String)] = []) {
        self.code = code
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    /// The HTTP status of ``code``.
    public var status: Int { code.status }

    /// `code: detail`.
    public var description: String { "\(code.rawValue): \(detail)" }

    /// Returns a copy with one more extension member.
    func with(_ key: String, _ value: Extension) -> APIError {
        var copy = self
        copy.extensions[key] = value
        return copy
    }
}

extension APIError {
    /// Maps an engine error to its API code by kind; MXNet's message becomes `detail`.
    init(_ error: AutogradError) {
        let code: Code = switch error.kind {
        case .shapeMismatch: .shapeMismatch
        case .dtypeMismatch: .dtypeMismatch
        case .invalidParameter: .invalidAttribute
        case .unknownOperator: .unknownOp
        case .notInGraph: .notRecorded
        case .graphFreed: .graphFreed
        case .noGradVariables: .noGradVariables
        case .variableNotAttached: .variableNotAttached
        case .variableUnreachable: .variableUnreachable
        case .inplaceOnGraphArray: .inplaceInGraph
        case .inplaceWhileRecording: .inplaceWhileRecording
        case .notPartOfGraph: .notInGraph
        case .functionReused: .functionReused
        case .functionBadGradients: .invalidArgument
        case .notDifferentiable: .notDifferentiable
        case .invalidArgument: .invalidArgument
        case .arrayTooLarge: .arrayTooLarge
        case .limitExceeded: .sessionQuotaExceeded
        }
        self.init(code, error.message)
    }
}
