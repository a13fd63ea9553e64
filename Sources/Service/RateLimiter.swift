import Synchronization

/// Per-client token buckets (client = API key, else remote address): `rate` requests per second
/// with bursts of up to `burst`.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: Double
    }

    let rate: Double
    let burst: Double
    private let clock: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Above this many clients, full buckets are forgotten.
    private let maxClients = 10_000

    init(rate: Double, burst: Int, clock: @escaping @Sendable () -> Double) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.clock = clock
    }

    /// Takes one token for `client`; nil when allowed, else the seconds until the next token.
    func take(_ client: String) -> Double? {
        let now = clock()
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updatedAt: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updatedAt) * rate)
            bucket.updatedAt = now
            defer {
                buckets[client] = bucket
                if buckets.count > maxClients { buckets = buckets.filter { $0.value.tokens < burst } }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate }
            bucket.tokens -= 1
            return nil
        }
    }
}
