import Glibc
import HTTP

/// The IMF-fixdate for the `Date` header (RFC 9110 §5.6.7), formatted at most once a second
/// per loop and reused by every response in between.
struct DateCache {
    private(set) var value: String = ""
    private var second: time_t = -1

    /// Re-formats the date if the wall-clock second changed.
    mutating func refresh() {
        let now = time(nil)
        guard now != second else { return }
        second = now
        value = HTTPDate.format(secondsSince1970: Int(now))
    }
}

/// Monotonic nanoseconds (the clock of every deadline; immune to wall-clock jumps).
@inline(__always)
func monotonicNow() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}
