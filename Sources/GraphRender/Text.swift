// Text helpers shared by the label, SVG and DOT code.

import Glibc  // libm for Double.rounded()

enum Text {
    /// Longest label line drawn; the full text stays in the tooltip.
    static let maxLineLength = 40

    /// Python-style shape: `()`, `(4,)`, `(2, 3)`.
    static func shape(_ dims: [Int]) -> String {
        dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
    }

    /// `5000` → `5,000`.
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value.magnitude))
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    static func clip(_ text: String) -> String {
        text.count <= maxLineLength ? text : String(text.prefix(maxLineLength - 1)) + "…"
    }

    /// Coordinates with at most one decimal, without Foundation: `12`, `12.5`, `-3.2`.
    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let whole = String(tenths.magnitude / 10), frac = tenths.magnitude % 10
        return (tenths < 0 ? "-" : "") + whole + (frac == 0 ? "" : ".\(frac)")
    }

    /// Escapes text for XML content and attribute values. Characters XML 1.0 forbids
    /// (most C0 controls) become U+FFFD so the document stays well-formed.
    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default: out.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }

    /// Escapes text for a double-quoted DOT string; line breaks become DOT's `\n`.
    static func dot(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar.value < 0x20 ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }
}
