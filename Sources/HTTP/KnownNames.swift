import Glibc

/// Interned spellings of common methods and field names: a match returns a string literal,
/// which costs no UTF-8 validation, allocation or reference counting.
enum KnownNames {
    static func method(_ p: UnsafePointer<UInt8>, _ count: Int) -> String? {
        switch count {
        case 3: matches(p, "GET") ? "GET" : matches(p, "PUT") ? "PUT" : nil
        case 4: matches(p, "POST") ? "POST" : matches(p, "HEAD") ? "HEAD" : nil
        case 5: matches(p, "PATCH") ? "PATCH" : nil
        case 6: matches(p, "DELETE") ? "DELETE" : nil
        case 7: matches(p, "OPTIONS") ? "OPTIONS" : nil
        default: nil
        }
    }

    /// Exact-case matches only: the original spelling is what handlers see.
    static func name(_ p: UnsafePointer<UInt8>, _ count: Int) -> String? {
        switch count {
        case 4: matches(p, "Host") ? "Host" : matches(p, "host") ? "host" : nil
        case 6: matches(p, "Accept") ? "Accept" : matches(p, "Cookie") ? "Cookie" : matches(p, "Origin") ? "Origin" : nil
        case 7: matches(p, "Referer") ? "Referer" : nil
        case 10: matches(p, "User-Agent") ? "User-Agent" : matches(p, "Connection") ? "Connection" : nil
        case 12: matches(p, "Content-Type") ? "Content-Type" : nil
        case 13: matches(p, "Authorization") ? "Authorization" : matches(p, "Cache-Control") ? "Cache-Control" : nil
        case 14: matches(p, "Content-Length") ? "Content-Length" : nil
        case 15: matches(p, "Accept-Encoding") ? "Accept-Encoding" : matches(p, "Accept-Language") ? "Accept-Language" : nil
        case 16: matches(p, "Content-Encoding") ? "Content-Encoding" : nil
        case 17: matches(p, "Transfer-Encoding") ? "Transfer-Encoding" : nil
        default: nil
        }
    }

    @inline(__always)
    private static func matches(_ p: UnsafePointer<UInt8>, _ literal: StaticString) -> Bool {
        memcmp(p, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }
}
