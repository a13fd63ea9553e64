import Foundation
import Testing
@testable import Wire

private func text(_ w: JSONWriter) -> String { String(decoding: w.bytes, as: UTF8.self) }

private func written(_ values: [Float]) -> String {
    var w = JSONWriter()
    values.withUnsafeBufferPointer { w.writeFloats($0) }
    return text(w)
}

private func written(_ values: [Double]) -> String {
    var w = JSONWriter()
    values.withUnsafeBufferPointer { w.writeDoubles($0) }
    return text(w)
}

/// Deterministic generator so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Test func writesCompactValuesWithEscapes() throws {
    let v = JSONValue.object(JSONObject([
        JSONMember("a", .array([.int(1), .double(2.5), .double(3), .double(.nan), .double(-.infinity)])),
        JSONMember("b", .null), JSONMember("c", .bool(true)), JSONMember("d", .object(JSONObject())),
        JSONMember("s", .string("x\"y\\z\n\t\r\u{8}\u{c}\u{1}\u{1f}/é\u{1F600}")),
    ]))
    let expected = #"{"a":[1,2.5,3.0,"NaN","-Infinity"],"b":null,"c":true,"d":{},"s":"x\"y\\z\n\t\r\b\f\u0001\u001f/é😀"}"#
    #expect(String(decoding: JSONWriter.encode(v), as: UTF8.self) == expected)
    #expect(try JSONParser.parse(JSONWriter.encode(v)) == v)
}

@Test func writesFloat32WithFloat32Digits() {
    #expect(written([Float(0.1), 1, -0.0, 1e-5, 3.4028235e38, 1e-45, .nan, .infinity]) ==
        #"[0.1,1.0,-0.0,1e-05,3.4028235e+38,1e-45,"NaN","Infinity"]"#)
    #expect(written([0.1, 1e300, 5e-324]) == "[0.1,1e+300,5e-324]")
    #expect(written([Float]()) == "[]")
}

@Test func composesTensorObjects() throws {
    var w = JSONWriter()
    w.writeRaw("{")
    w.writeKey("shape")
    w.write(.array([.int(2)]))
    w.writeRaw(",")
    w.writeKey("data")
    [Float(1.5), -2].withUnsafeBufferPointer { w.writeFloats($0) }
    w.writeRaw("}")
    #expect(text(w) == #"{"shape":[2],"data":[1.5,-2.0]}"#)
}

@Test func numericArraysWriteNestedAndRoundTrip() throws {
    let source = "[[1,2.5],[\"NaN\",-0.0]]"
    let v = try JSONParser.parse(source)
    #expect(String(decoding: JSONWriter.encode(v), as: UTF8.self) == "[[1.0,2.5],[\"NaN\",-0.0]]")
    #expect(try JSONParser.parse(JSONWriter.encode(v)) == v)
    #expect(String(decoding: JSONWriter.encode(try JSONParser.parse("[[1,2],[3,4]]")), as: UTF8.self) == "[[1,2],[3,4]]")
}

@Test func stringsRoundTripThroughEscaping() throws {
    var rng = SplitMix64(state: 7)
    let alphabet: [Character] = ["a", "\"", "\\", "/", "\n", "\u{0}", "\u{7f}", "é", "€", "\u{1F600}", "\u{2028}", "\u{1f}"]
    for _ in 0..<500 {
        let s = String((0..<Int.random(in: 0...20, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
        #expect(try JSONParser.parse(JSONWriter.encode(.string(s))) == .string(s))
    }
}

@Test func randomFloat32BitPatternsRoundTripExactly() throws {
    var rng = SplitMix64(state: 1)
    var values = (0..<200_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
    values += [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
               0, -0.0, 1, 16_777_217, .ulpOfOne, .nan, .infinity, -.infinity]
    guard case .numbers(let parsed) = try JSONParser.parse(written(values)) else {
        Issue.record("fast path not taken")
        return
    }
    let back = try parsed.floats()
    #expect(back.count == values.count)
    for (x, y) in zip(values, back) where !(x.isNaN ? y.isNaN : x.bitPattern == y.bitPattern) {
        Issue.record("float32 \(x) (0x\(String(x.bitPattern, radix: 16))) came back as \(y)")
        break
    }
}

@Test func randomFloat64BitPatternsRoundTripExactly() throws {
    var rng = SplitMix64(state: 2)
    var values = (0..<200_000).map { _ in Double(bitPattern: rng.next()) }
    values += [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 0, -0.0, 0.1, 1e22, 1e23, 9_007_199_254_740_993]
    guard case .numbers(let parsed) = try JSONParser.parse(written(values)) else {
        Issue.record("fast path not taken")
        return
    }
    for (x, y) in zip(values, parsed.values) where !(x.isNaN ? y.isNaN : x.bitPattern == y.bitPattern) {
        Issue.record("float64 \(x) came back as \(y)")
        break
    }
}

@Test func float32TextMatchesSwiftDescription() {
    // Swift's description is shortest round-trip (SwiftDtoa); our Ryu output must match it byte for byte.
    var rng = SplitMix64(state: 5)
    var values = (0..<300_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
    values += (0..<256).flatMap { e in [Float(bitPattern: UInt32(e) << 23), Float(bitPattern: UInt32(e) << 23 | 0x7F_FFFF)] }
    values += (1..<2000).map { Float(bitPattern: UInt32($0)) } + (0..<5000).map { Float($0) } + (0..<5000).map { Float($0) / 1000 }
    values += [16_777_216, 16_777_218, 0.0001, 0.00009999, 1e-45, 3.4028235e38, 1e10, 123456.79, 1.17549435e-38]
    for x in values where x.isFinite {
        let mine = written([x]).dropFirst().dropLast()
        if mine != x.description[...] {
            Issue.record("\(x.description) written as \(mine) (bits 0x\(String(x.bitPattern, radix: 16)))")
            return
        }
    }
}

@Test func float64TextMatchesSwiftDescription() {
    var rng = SplitMix64(state: 6)
    var values = (0..<300_000).map { _ in Double(bitPattern: rng.next()) }
    values += (0..<2048).flatMap { e in [Double(bitPattern: UInt64(e) << 52), Double(bitPattern: UInt64(e) << 52 | (1 << 52 - 1))] }
    values += (1..<2000).map { Double(bitPattern: UInt64($0)) } + (0..<5000).map { Double($0) } + (0..<5000).map { Double($0) / 1000 }
    values += [9_007_199_254_740_992, 9_007_199_254_740_994, 1e15, 1e16, 0.0001, 0.00009, 1e-5, 5e-324, 1.7976931348623157e308,
               2.2250738585072014e-308, 1e23, 0.3, 2.0 / 3]
    for x in values where x.isFinite {
        let mine = written([x]).dropFirst().dropLast()
        if mine != x.description[...] {
            Issue.record("\(x.description) written as \(mine) (bits 0x\(String(x.bitPattern, radix: 16)))")
            return
        }
    }
}

@Test func float32OutputIsTheShortestThatRoundTrips() throws {
    // Independent check with C's printf: one significant digit fewer never round-trips.
    var rng = SplitMix64(state: 3)
    for _ in 0..<20_000 {
        let x = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
        guard x.isFinite, x != 0 else { continue }
        let s = written([x]).dropFirst().dropLast()
        let mantissa = s.split(whereSeparator: { $0 == "e" })[0]
        var digits = mantissa.filter(\.isNumber).drop(while: { $0 == "0" })
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        #expect(Float(String(s)) == x)
        if digits.count > 1 {
            let shorter = String(format: "%.*e", digits.count - 2, Double(x))
            #expect(Float(shorter) != x, "\(s) is not shortest: \(shorter) round-trips")
        }
    }
}

@Test func parsesNumbersLikeStrtod() throws {
    // Hard cases for fast paths: long mantissas, exponent extremes, halfway cases.
    let cases = ["2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324", "2.4703282292062328e-324",
                 "1.7976931348623157e308", "9007199254740993", "9007199254740992.5", "0.1000000000000000055511151231257827",
                 "123456789012345678901e-20", "1e-22", "1e22", "1e23", "3.0517578125e-05", "0.000000000000000000001",
                 "7.038531e-26", "8.589973e9", "1.00000000000000011102230246251565404236316680908203125"]
    var rng = SplitMix64(state: 4)
    let random = (0..<20_000).map { _ in
        String(format: "%.\(Int.random(in: 1...20, using: &rng))e", Double(bitPattern: rng.next() >> 2))
    }
    for c in cases + random {
        let v = try #require(try JSONParser.parse(c).number, "\(c)")
        #expect(v.double.bitPattern == strtod(c, nil).bitPattern, "\(c)")
        #expect(v.float.bitPattern == strtof(c, nil).bitPattern, "\(c)")
    }
}
