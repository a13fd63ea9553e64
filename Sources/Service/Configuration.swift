import Foundation

/// Settings of one ``Service`` instance (filled from tensord's flags).
public struct ServiceConfiguration: Sendable {
    /// Replica ordinal, encoded in every session id.
    public var replicaID: Int = 0
    /// Boot epoch, encoded in every session id; a restarted replica has a new one.
    public var bootEpoch: String = ServiceConfiguration.epoch(at: Date().timeIntervalSince1970)
    /// Maximum number of live sessions; creating one more answers 503 `capacity`.
    public var maxSessions: Int = 1_000
    /// Default idle timeout of a session in seconds.
    public var idleTimeout: Double = 900
    /// Largest idle timeout a client may ask for, in seconds.
    public var maxIdleTimeout: Double = 86_400
    /// Memory budget of one session in bytes (arrays, gradients, saved tensors).
    public var sessionMaxBytes: Int = 1 << 30
    /// Largest number of arrays one session may hold.
    public var maxArraysPerSession: Int = 100_000
    /// Largest number of elements of one array.
    public var maxArrayElements: Int = 1 << 28
    /// Steps per `run` program (counted over all nesting levels).
    public var maxProgramSteps: Int = 10_000
    /// Nesting depth of scope blocks in a `run` program.
    public var maxProgramDepth: Int = 32
    /// How long an expired or deleted session id keeps answering with its `reason`, in seconds.
    public var tombstoneLifetime: Double = 3_600
    /// At most this many tombstones are kept (the oldest go first).
    public var maxTombstones: Int = 100_000
    /// Path of the OpenAPI document served at `/openapi.yaml`; nil = look next to the executable
    /// and in the working directory (see ``OpenAPIDocument``).
    public var openAPIPath: String?
    /// API keys accepted on `/v1` routes (`Authorization: Bearer <key>`); empty = no authentication.
    /// A session belongs to the key that created it: other keys get 404 for it, admin keys see all.
    public var apiKeys: [APIKey] = []
    /// Sessions one key may hold at once, unless its ``APIKey/maxSessions`` says otherwise
    /// (not applied when authentication is off: then only ``maxSessions`` counts).
    public var maxSessionsPerKey: Int = 100
    /// Absolute lifetime in seconds of a session that asks for none (`ttl_s`); 0 = none unless
    /// ``maxSessionTTL`` is set (then that).
    public var sessionTTL: Double = 0
    /// Largest `ttl_s` a client may ask for, in seconds; 0 = no cap.
    public var maxSessionTTL: Double = 0
    /// Requests per second allowed per client on `/v1` routes (client = API key fingerprint,
    /// else remote address); nil = unlimited.
    public var rateLimit: Double?
    /// Burst size of the rate limit.
    public var rateLimitBurst: Int = 100
    /// `Retry-After` seconds sent with 503 `capacity`.
    public var retryAfterSeconds: Int = 5
    /// Directory of the session snapshots (`--data-dir`); nil = sessions live only in memory.
    public var dataDirectory: String?
    /// Seconds between snapshot passes (`--snapshot-interval`); 0 = only at shutdown.
    public var snapshotInterval: Double = 30
    /// Wall clock in seconds since 1970 (injectable for tests).
    public var clock: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    /// The defaults documented on each property.
    public init() {}

    /// A boot epoch derived from a start time: milliseconds since 1970 in lower-case base32.
    /// Milliseconds, not seconds: a replica restarted within the same second must still get a
    /// new epoch, or it would take its predecessor's sessions for its own.
    public static func epoch(at time: Double) -> String {
        var value = UInt64(max(0, time * 1000))
        var bytes: [UInt8] = []
        while value > 0 { bytes.insert(UInt8(value & 0xff), at: 0); value >>= 8 }
        return SessionID.base32(bytes.isEmpty ? [0] : bytes)
    }
}
