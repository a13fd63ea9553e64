import Testing
@testable import Wire

/// Parses `text`, returning the error message or nil.
private func parseError(_ text: String, options: JSONParser.Options = .init()) -> String? {
    do {
        _ = try JSONParser.parse(text, options: options)
        return nil
    } catch {
        return error.message
    }
}

/// JSONTestSuite-style documents every conforming parser must accept.
private let mustAccept: [String] = [
    "[]", "{}", "[[]]", "[{}]", "0", "-0", "1", "-1", "1.5", "-1.5e3", "1E3", "1e+3", "1e-3", "0.0", "0e0",
    "123456789012345678901234567890", "1e-400", "\"\"", "\"a\"", "\"\\u0041\"", "\"\\ud83d\\ude00\"",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"é\"", "\"日本\"", "\"\u{1F600}\"", "true", "false", "null",
    " [1] ", "\n\t\r [ 1 , 2 ]\n", "[1,[2,[3]]]", "{\"a\":[1,{\"b\":null}]}", "[\"a\",1,true,null,{}]",
    "{\"\":0}", "[1e22]", "[1.7976931348623157e308]", "[5e-324]", "[-0.0]", "[\"NaN\",\"Infinity\",\"-Infinity\"]",
    "[[1,2],[3]]", "[[1],2]", "[1,\"x\"]", "{\"a\":1,\"b\":2}", "\"\\u0000\"", "[\"\\uFFFF\"]",
]

/// JSONTestSuite-style documents every conforming parser must reject, with the message expected.
private let mustReject: [(String, String)] = [
    ("", "invalid JSON at byte 0: unexpected end of input"),
    (" ", "invalid JSON at byte 1: unexpected end of input, expected a value"),
    ("[", "invalid JSON at byte 1: unexpected end of input, expected a value"),
    ("[1", "invalid JSON at byte 2: unexpected end of input, expected ',' or ']'"),
    ("[1 2]", "invalid JSON at byte 3: expected ',' or ']'"),
    ("[1,]", "invalid JSON at byte 3: unexpected character ']', expected a value"),
    ("[,1]", "invalid JSON at byte 1: unexpected character ',', expected a value"),
    ("{\"a\":1,}", "invalid JSON at byte 7: expected a string key"),
    ("{\"a\" 1}", "invalid JSON at byte 5: expected ':'"),
    ("{a:1}", "invalid JSON at byte 1: expected a string key"),
    ("{\"a\":1 \"b\":2}", "invalid JSON at byte 7: expected ',' or '}'"),
    ("{\"a\":1,\"a\":2}", "invalid JSON at byte 7: duplicate key \"a\""),
    ("[1]]", "invalid JSON at byte 3: unexpected data after the JSON value"),
    ("1 2", "invalid JSON at byte 2: unexpected data after the JSON value"),
    ("01", "invalid JSON at byte 0: leading zeros are not allowed in numbers"),
    ("[-01]", "invalid JSON at byte 1: leading zeros are not allowed in numbers"),
    ("-", "invalid JSON at byte 1: expected a digit in the number"),
    ("[-]", "invalid JSON at byte 2: expected a digit in the number"),
    ("1.", "invalid JSON at byte 2: expected a digit after '.'"),
    ("[.5]", "invalid JSON at byte 1: unexpected character '.', expected a value"),
    ("1e", "invalid JSON at byte 2: expected a digit in the exponent"),
    ("[1e+]", "invalid JSON at byte 4: expected a digit in the exponent"),
    ("+1", "invalid JSON at byte 0: unexpected character '+', expected a value"),
    ("0x10", "invalid JSON at byte 1: unexpected data after the JSON value"),
    ("1e400", "invalid JSON at byte 0: number out of range (beyond the float64 range)"),
    ("[-1e309]", "invalid JSON at byte 1: number out of range (beyond the float64 range)"),
    ("tru", "invalid JSON at byte 0: invalid literal, expected 'true'"),
    ("nul", "invalid JSON at byte 0: invalid literal, expected 'null'"),
    ("True", "invalid JSON at byte 0: unexpected character 'T', expected a value"),
    ("'a'", "invalid JSON at byte 0: unexpected character ''', expected a value"),
    ("\"abc", "invalid JSON at byte 0: unterminated string"),
    ("\"a\tb\"", "invalid JSON at byte 2: control character 0x9 in a string must be escaped"),
    ("\"\\x\"", "invalid JSON at byte 1: invalid escape sequence in a string"),
    ("\"\\u12\"", "invalid JSON at byte 1: invalid \\u escape: expected 4 hex digits"),
    ("\"\\ud800\"", "invalid JSON at byte 1: unpaired surrogate in \\u escape"),
    ("\"\\udc00\"", "invalid JSON at byte 1: unpaired surrogate in \\u escape"),
    ("\"\\ud800\\u0041\"", "invalid JSON at byte 1: unpaired surrogate in \\u escape"),
    ("[1,2,3,NaN]", "invalid JSON at byte 7: bare NaN/Infinity is not valid JSON; send non-finite values as the strings \"NaN\", \"Infinity\", \"-Infinity\", or send the array as application/x-npy"),
    ("[Infinity]", "invalid JSON at byte 1: bare NaN/Infinity is not valid JSON; send non-finite values as the strings \"NaN\", \"Infinity\", \"-Infinity\", or send the array as application/x-npy"),
    ("{\"data\":[-Infinity]}", "invalid JSON at byte 9: bare NaN/Infinity is not valid JSON; send non-finite values as the strings \"NaN\", \"Infinity\", \"-Infinity\", or send the array as application/x-npy"),
    ("[1,2,3,4,5,6,7,8 ,9,10,11]x", "invalid JSON at byte 26: unexpected data after the JSON value"),
    ("[1,2,3,4,5,6,7,8,9,10,11}", "invalid JSON at byte 24: expected ',' or ']'"),
    ("\u{FEFF}[1]", "invalid JSON at byte 0: unexpected byte 0xEF, expected a value"),
    ("[\"a\"\u{0}]", "invalid JSON at byte 4: expected ',' or ']'"),
]

@Test(arguments: mustAccept)
func acceptsValidDocument(_ text: String) throws {
    _ = try JSONParser.parse(text)
}

@Test(arguments: mustReject)
func rejectsInvalidDocumentWithMessage(_ text: String, _ message: String) {
    #expect(parseError(text) == message)
}

@Test func rejectsInvalidUTF8WithOffset() {
    for bytes: [UInt8] in [[0x22, 0x61, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0x61, 0xED, 0xA0, 0x80, 0x22]] {
        #expect(throws: WireError(.invalidJSON, "invalid JSON at byte 2: invalid UTF-8 in a string")) {
            try JSONParser.parse(bytes)
        }
    }
    // Also after an escape (the message then points at the string's start).
    #expect(throws: WireError(.invalidJSON, "invalid JSON at byte 0: invalid UTF-8 in a string")) {
        try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22])
    }
}

@Test func parsesScalarsAndStrings() throws {
    #expect(try JSONParser.parse("true") == .bool(true))
    #expect(try JSONParser.parse("null").isNull)
    #expect(try JSONParser.parse("\"\\ud83d\\ude00 \\u00e9\\n\"") == .string("\u{1F600} é\n"))
    #expect(try JSONParser.parse("\"a\\/b\"") == .string("a/b"))
    let n = try #require(try JSONParser.parse("9007199254740992").number)
    #expect(n.isInteger && n.int == 9_007_199_254_740_992)
    let big = try #require(try JSONParser.parse("9007199254740993").number)
    #expect(!big.isInteger && big.int == nil && big.double == 9_007_199_254_740_992)
    let f = try #require(try JSONParser.parse("2.0").number)
    #expect(!f.isInteger && f.double == 2)
    #expect(try JSONParser.parse("-0").number?.double.sign == .minus)
    #expect(try JSONParser.parse("1e-400").number?.double == 0)
    #expect(try JSONParser.parse("123456789012345678901234567890").number?.double == 1.2345678901234568e29)
}

@Test func objectsKeepOrderAndLookUpKeys() throws {
    let v = try JSONParser.parse("{\"b\":1,\"a\":[true],\"c\":{\"d\":\"e\"}}")
    #expect(v.object?.keys == ["b", "a", "c"])
    #expect(v["a"]?.array == [.bool(true)])
    #expect(v["c"]?["d"]?.string == "e")
    #expect(v["zz"] == nil)
}

@Test func duplicateKeysAreRejectedInLargeObjects() {
    let members = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
    #expect(parseError("{\(members)}") == nil)
    let offset = members.utf8.count + 2
    #expect(parseError("{\(members),\"k17\":1}") == "invalid JSON at byte \(offset): duplicate key \"k17\"")
}

@Test func depthLimitIsEnforced() {
    let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
    #expect(parseError(ok) == nil)
    let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
    #expect(parseError(deep) == "invalid JSON at byte 128: nesting deeper than 128 levels")
    let objects = String(repeating: "{\"a\":", count: 10) + "1" + String(repeating: "}", count: 10)
    #expect(parseError(objects, options: .init(maxDepth: 9)) == "invalid JSON at byte 45: nesting deeper than 9 levels")
    // A million unclosed brackets fail fast at the limit instead of exhausting the stack.
    #expect(parseError(String(repeating: "[", count: 1_000_000))?.hasSuffix("nesting deeper than 128 levels") == true)
}

@Test func overlongNumbersAreRejected() throws {
    #expect(parseError("[1." + String(repeating: "1", count: 997) + "]") == nil)
    #expect(parseError("[1." + String(repeating: "1", count: 999) + "]") == "invalid JSON at byte 1: number longer than 1000 characters")
    // Many digits that fit the fast path (zeros after 19 significant digits) are still fine.
    #expect(try JSONParser.parse("1" + String(repeating: "0", count: 2000) + "e-2000").number?.double == 1)
}

@Test func inputSizeLimitIsEnforced() {
    #expect(parseError("[1,2,3]", options: .init(maxInputBytes: 6))
        == "invalid JSON: input of 7 bytes exceeds the limit of 6 bytes")
}

@Test func numericArraysTakeTheFastPath() throws {
    guard case .numbers(let flat) = try JSONParser.parse("[1, 2.5, -3e2, \"NaN\", \"Infinity\", \"-Infinity\"]") else {
        Issue.record("not a numeric array")
        return
    }
    #expect(flat.shape == [6])
    #expect(Array(flat.values[0..<3]) == [1, 2.5, -300])
    #expect(flat.values[3].isNaN && flat.values[4] == .infinity && flat.values[5] == -.infinity)
    #expect(!flat.allIntegers)

    guard case .numbers(let nested) = try JSONParser.parse("[[[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]]]") else {
        Issue.record("not a numeric array")
        return
    }
    #expect(nested.shape == [2, 2, 3])
    #expect(nested.values == (1...12).map(Double.init))
    #expect(nested.allIntegers)

    guard case .numbers(let empty) = try JSONParser.parse("[[],[]]") else {
        Issue.record("not a numeric array")
        return
    }
    #expect(empty.shape == [2, 0] && empty.values.isEmpty)
}

@Test func tensorObjectDecodesDataAndShape() throws {
    let v = try JSONParser.parse("{\"shape\":[2,2],\"dtype\":\"float32\",\"data\":[[1,2],[3,\"NaN\"]]}")
    guard case .numbers(let data)? = v["data"], case .numbers(let shape)? = v["shape"] else {
        Issue.record("fast path not taken")
        return
    }
    #expect(try shape.integers(Int.self) == [2, 2])
    #expect(data.shape == [2, 2])
    let floats = try data.floats()
    #expect(Array(floats[0..<3]) == [1, 2, 3] && floats[3].isNaN)
    #expect(v["dtype"]?.string == "float32")
}

@Test func raggedAndMixedArraysFallBackToGenericValues() throws {
    let ragged = try JSONParser.parse("[[1,2],[3]]")
    guard case .array(let items) = ragged else {
        Issue.record("ragged array parsed as numeric")
        return
    }
    #expect(items.count == 2)
    #expect(ragged == .array([.array([.int(1), .int(2)]), .array([.int(3)])]))
    // Later siblings deeper in the tree: shapes [2,1] vs [2].
    #expect(try JSONParser.parse("[[[1],[2]],[3,4]]")
        == .array([.array([.array([.int(1)]), .array([.int(2)])]), .array([.int(3), .int(4)])]))
    // Strings that are not the special three make the array generic, but keep the specials as strings.
    #expect(try JSONParser.parse("[1.5,\"NaN\",\"x\"]") == .array([.double(1.5), .string("NaN"), .string("x")]))
    #expect(try JSONParser.parse("[\"NaN\"]").array == [.string("NaN")])
    #expect(try JSONParser.parse("[1,[2]]") == .array([.int(1), .array([.int(2)])]))
    #expect(try JSONParser.parse("[[1],2,{}]") == .array([.array([.int(1)]), .int(2), .object(JSONObject())]))
    #expect(try JSONParser.parse("[1,true,null]") == .array([.int(1), .bool(true), .null]))
}

@Test func numericConversionsCheckRangeAndIntegrality() throws {
    guard case .numbers(let a) = try JSONParser.parse("[1, 2.5]"), case .numbers(let big) = try JSONParser.parse("[1e39]"),
          case .numbers(let ints) = try JSONParser.parse("[255, 0, 7]") else {
        Issue.record("fast path not taken")
        return
    }
    #expect(throws: WireError(.valueOutOfRange, "value 2.5 at index 1 is not a Int32")) { try a.integers(Int32.self) }
    #expect(throws: WireError(.valueOutOfRange, "value 1e+39 at index 0 is outside the float32 range")) { try big.floats() }
    #expect(try ints.integers(UInt8.self) == [255, 0, 7])
    guard case .numbers(let wide) = try JSONParser.parse("[256]") else { return }
    #expect(throws: WireError(.valueOutOfRange, "value 256.0 at index 0 is not a UInt8")) { try wide.integers(UInt8.self) }
}

@Test func float32TiesAreRoundedFromTheDecimalText() throws {
    // 1 + 2^-24 + 2^-60: just above the midpoint between 1 and the next Float. The nearest Double
    // is the midpoint itself, so Float(Double) would round down to 1; the correct Float is 1 + 2^-23.
    let text = "1.00000005960464477539930798594"
    let exact = Float(text)!
    #expect(exact == 1 + Float.ulpOfOne)
    #expect(Float(Double(text)!) == 1)
    guard case .numbers(let a) = try JSONParser.parse("[0.5, \(text)]") else {
        Issue.record("fast path not taken")
        return
    }
    #expect(try a.floats() == [0.5, exact])
    #expect(try JSONParser.parse(text).number?.float == exact)
    // The correction survives the fallback to generic values, for scalars and for sub-arrays.
    let generic = try JSONParser.parse("[\(text), \"x\"]").array
    #expect(generic?.first?.number?.float == exact)
    guard case .array(let rows) = try JSONParser.parse("[[1, \(text)], [\(text)], [2], \"x\"]"), rows.count == 4,
          case .numbers(let first) = rows[0], case .numbers(let second) = rows[1], case .numbers(let third) = rows[2] else {
        Issue.record("unexpected structure")
        return
    }
    #expect(try first.floats() == [1, exact])
    #expect(try second.floats() == [exact])
    #expect(try third.floats() == [2] && third.float32Corrections.isEmpty)
}

/// Found by the json fuzz harness (Fuzz/Regressions/json/float32-overflow-tie.json): the Double
/// halfway between Float.max and 2^128 rounds to infinity, but a decimal just below it must
/// round to Float.max (and one above it to infinity).
@Test func float32AtTheOverflowTieFollowsTheDecimalText() throws {
    let below = "3.4028235677973366e38", above = "3.4028235677973367e38"
    #expect(Double(below) == Double(above))   // both are the tie as a Double
    #expect(try JSONParser.parse(below).number?.float == .greatestFiniteMagnitude)
    #expect(try JSONParser.parse(above).number?.float == .infinity)
    guard case .numbers(let numbers) = try JSONParser.parse("[\(below), -\(below), 1]") else {
        Issue.record("not a numeric array")
        return
    }
    #expect(try numbers.floats() == [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1])
    guard case .numbers(let over) = try JSONParser.parse("[1, \(above)]") else {
        Issue.record("not a numeric array")
        return
    }
    #expect(throws: WireError.self) { try over.floats() }
}

/// Found by the json fuzz harness (Fuzz/Regressions/json/integer-flags-in-mixed-array.json):
/// when an array stopped being numeric, the elements read so far took the array-wide integer
/// flag, so `1` in `[1, 2.5, null]` became `1.0`.
@Test func elementsKeepTheirOwnIntegerFlagWhenAnArrayIsNotNumeric() throws {
    let value = try JSONParser.parse("[1, 2.5, null, [[1], [2.5], \"x\"], [[1], [2, 3]], 4]")
    let items = try #require(value.array)
    #expect(items[0].number?.int == 1)
    #expect(items[1].number?.int == nil)
    #expect(items[5].number?.int == 4)
    guard case .array(let nested) = items[3], case .numbers(let one) = nested[0], case .numbers(let half) = nested[1] else {
        Issue.record("unexpected structure \(items[3])")
        return
    }
    #expect(one.allIntegers && !half.allIntegers)
    guard case .array(let ragged) = items[4], case .numbers(let first) = ragged[0], case .numbers(let second) = ragged[1] else {
        Issue.record("unexpected structure \(items[4])")
        return
    }
    #expect(first.values == [1] && second.values == [2, 3] && first.allIntegers && second.allIntegers)
    #expect(String(decoding: JSONWriter.encode(value), as: UTF8.self) == #"[1,2.5,null,[[1],[2.5],"x"],[[1],[2,3]],4]"#)
}

/// Found by the json fuzz harness: the integer literal -0 was written back as 0.
@Test func negativeZeroIntegerKeepsItsSign() throws {
    let value = try JSONParser.parse("[-0, \"x\"]")
    #expect(String(decoding: JSONWriter.encode(value), as: UTF8.self) == #"[-0,"x"]"#)
    #expect(try JSONParser.parse(JSONWriter.encode(value)).array?[0].number?.double.sign == .minus)
}

/// A long exponent must not be cut short while the mantissa digits move the decimal point by
/// as much (found reviewing the fuzz reference's number rules: the fuzzer's inputs are too short).
@Test func longMantissaOffsetsAHugeExponentExactly() throws {
    let zeros = String(repeating: "0", count: 1_000_000)
    #expect(try JSONParser.parse("0.\(zeros)1e1000001").number?.double == 1)
    #expect(try JSONParser.parse("1\(zeros)e-1000000").number?.double == 1)
    #expect(try JSONParser.parse("[0.\(zeros)1e1000002]").array?.first?.number?.double == 10)
    #expect(throws: WireError.self) { try JSONParser.parse("1e99999999999999") }
    #expect(try JSONParser.parse("1e-99999999999999").number?.double == 0)
}
