/// Splitting and percent-decoding of request-targets (RFC 9112 §3.2, RFC 3986 §2.1).
enum RequestTarget {
    /// The percent-encoded path of a target: origin-form up to `?`/`#`, the path of an
    /// absolute-form (`"/"` when empty), `"*"` for asterisk-form, `""` otherwise.
    static func rawPath(_ target: String) -> Substring {
        let utf8 = target.utf8
        guard let first = utf8.first else { return target[...] }
        if first == UInt8(ascii: "*") { return target[...] }
        var start = utf8.startIndex
        if first != UInt8(ascii: "/") {
            // absolute-form (RFC 9112 §3.2.2): skip "scheme://authority".
            guard let scheme = target.firstRange(of: "://") else { return target[target.endIndex...] }
            let authority = scheme.upperBound
            guard let slash = utf8[authority...].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }),
                  utf8[slash] == UInt8(ascii: "/")
            else { return "/" }
            start = slash
        }
        let end = utf8[start...].firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        return target[start..<end]
    }

    /// The decoded path and query pairs, or `nil` when a `%` is not followed by two hex digits.
    static func decode(_ target: String) -> (path: String, query: [(String, String)])? {
        let raw = rawPath(target)
        guard let path = percentDecode(raw.utf8, plusAsSpace: false) else { return nil }
        var query: [(String, String)] = []
        let utf8 = target.utf8
        if let mark = utf8.firstIndex(of: UInt8(ascii: "?")) {
            let end = utf8[mark...].firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
            for pair in utf8[utf8.index(after: mark)..<end].split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "="))
                let nameBytes = equals.map { pair[..<$0] } ?? pair[...]
                let valueBytes = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
                guard let name = percentDecode(nameBytes, plusAsSpace: true),
                      let value = percentDecode(valueBytes, plusAsSpace: true) else { return nil }
                query.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
        }
        return (String(decoding: path, as: UTF8.self), query)
    }

    /// Percent-decodes `bytes`; `nil` when a `%` is not followed by two hex digits.
    static func percentDecode<C: Collection<UInt8>>(_ bytes: C, plusAsSpace: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            if byte == UInt8(ascii: "%") {
                guard index != bytes.endIndex, let high = hexValue(bytes[index]) else { return nil }
                index = bytes.index(after: index)
                guard index != bytes.endIndex, let low = hexValue(bytes[index]) else { return nil }
                index = bytes.index(after: index)
                out.append(high << 4 | low)
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else {
                out.append(byte)
            }
        }
        return out
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}
