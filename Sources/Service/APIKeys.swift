import COpenSSL
import Foundation

/// One API key a client may present (`Authorization: Bearer <key>`), with its role and quota.
///
/// Only the key's SHA-256 fingerprint is kept: the secret itself is never stored, logged or
/// shown. A presented key is hashed and the digest looked up, so no comparison ever runs
/// over the raw secret (and the lookup's timing says nothing about how much of a key matched).
public struct APIKey: Sendable, Equatable, ExpressibleByStringLiteral {
    /// Lower-case hex SHA-256 of the key: the owner recorded on the sessions it creates.
    public let fingerprint: String
    /// Optional display name (`name=` in the keys file), shown as a session's `owner`.
    public var name: String?
    /// An admin key sees, lists and touches every session.
    public var isAdmin: Bool
    /// Sessions this key may hold at once; nil = the server's `--max-sessions-per-key`.
    public var maxSessions: Int?

    /// A key from its secret text.
    public init(_ secret: String, name: String? = nil, isAdmin: Bool = false, maxSessions: Int? = nil) {
        fingerprint = APIKey.fingerprint(of: secret)
        self.name = name
        self.isAdmin = isAdmin
        self.maxSessions = maxSessions
    }

    /// A plain (non-admin, unnamed) key; for tests and configuration literals.
    public init(stringLiteral secret: String) { self.init(secret) }

    /// What a session's `owner` shows: the key's name, else the first 12 hex digits of its
    /// fingerprint (enough to tell keys apart, too few to test guesses of a strong key against).
    public var label: String { name ?? "key:" + fingerprint.prefix(12) }

    /// Lower-case hex SHA-256 of `secret`'s UTF-8 bytes.
    static func fingerprint(of secret: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let bytes = Array(secret.utf8)
        bytes.withUnsafeBufferPointer { input in
            digest.withUnsafeMutableBufferPointer { output in
                _ = SHA256(input.baseAddress, input.count, output.baseAddress)
            }
        }
        return SessionID.hex(digest)
    }

    /// Whether `text` can be a key: 1-512 visible ASCII characters (no spaces), not starting with `#`.
    static func isValidSecret(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 512 && text.first != "#" && text.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }
}

/// Why a keys file or key list was refused (the message never contains a key).
public struct APIKeysError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The `--api-keys-file` format and the `TENSORD_API_KEYS` list.
///
/// Keys file: one key per line, `KEY [admin] [name=NAME] [max_sessions=N]`, fields separated by
/// spaces or tabs; blank lines and lines starting with `#` are ignored. A key is 1-512 visible
/// ASCII characters; a name is 1-64 of `A-Za-z0-9_.-`. Any other word, a repeated key or name, or
/// a file that others (not owner or group) may read or write, or one without keys, is refused, so
/// tensord does not start with a key set it did not mean.
public enum APIKeys {
    /// Parses the keys file's text.
    public static func parse(_ text: String) throws(APIKeysError) -> [APIKey] {
        var keys: [APIKey] = []
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            let place = "line \(index + 1)"
            guard APIKey.isValidSecret(first) else {
                throw APIKeysError("\(place): a key must be 1-512 visible ASCII characters")
            }
            var key = APIKey(String(first))
            for (position, word) in words.enumerated().dropFirst() {
                if word == "admin" {
                    key.isAdmin = true
                } else if word.hasPrefix("name=") {
                    let name = word.dropFirst(5)
                    guard (1...64).contains(name.count), name.utf8.allSatisfy(isNameByte) else {
                        throw APIKeysError("\(place): name= must be 1-64 of A-Za-z0-9_.-")
                    }
                    key.name = String(name)
                } else if word.hasPrefix("max_sessions=") {
                    guard let limit = Int(word.dropFirst(13)), limit >= 0 else {
                        throw APIKeysError("\(place): max_sessions= must be an integer >= 0")
                    }
                    key.maxSessions = limit
                } else {
                    // The word is not echoed: a key pasted into the wrong column must not reach the log.
                    throw APIKeysError("\(place): word \(position + 1) is not one of admin, name=NAME, max_sessions=N")
                }
            }
            try append(key, to: &keys, at: place)
        }
        return keys
    }

    /// The keys of a comma-separated list (`--api-key`, `TENSORD_API_KEYS`): plain keys,
    /// surrounding spaces trimmed, empty items skipped.
    public static func parseList(_ list: String) throws(APIKeysError) -> [APIKey] {
        var keys: [APIKey] = []
        for (index, item) in list.split(separator: ",").enumerated() {
            let secret = item.trimmingCharacters(in: .whitespaces)
            guard !secret.isEmpty else { continue }
            guard APIKey.isValidSecret(Substring(secret)) else {
                throw APIKeysError("item \(index + 1) of the key list: a key must be 1-512 visible ASCII characters")
            }
            try append(APIKey(secret), to: &keys, at: "item \(index + 1) of the key list")
        }
        return keys
    }

    /// Reads and parses a keys file, refusing one that others may read or write.
    public static func load(path: String) throws(APIKeysError) -> [APIKey] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw APIKeysError("cannot read the API keys file \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & 0o007 == 0 else {
            throw APIKeysError("the API keys file \(path) is accessible to other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod o-rwx it (e.g. 0600 or 0640)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIKeysError("cannot read the API keys file \(path)")
        }
        let keys: [APIKey]
        do {
            keys = try parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw APIKeysError("API keys file \(path), \(error.description)")
        }
        // An empty file would silently turn authentication off.
        guard !keys.isEmpty else { throw APIKeysError("the API keys file \(path) holds no keys") }
        return keys
    }

    /// Joins key sets (file and list), refusing a key or name given twice.
    public static func merge(_ sets: [APIKey]...) throws(APIKeysError) -> [APIKey] {
        var keys: [APIKey] = []
        for set in sets {
            for key in set { try append(key, to: &keys, at: "merging the keys file and the key list") }
        }
        return keys
    }

    private static func append(_ key: APIKey, to keys: inout [APIKey], at place: String) throws(APIKeysError) {
        if keys.contains(where: { $0.fingerprint == key.fingerprint }) {
            throw APIKeysError("\(place): the same key is given twice")
        }
        if let name = key.name, keys.contains(where: { $0.name == name }) {
            throw APIKeysError("\(place): the name '\(name)' is given to two keys")
        }
        keys.append(key)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"): true
        default: false
        }
    }
}

/// Who sent a request, as far as sessions are concerned.
struct Caller: Sendable {
    /// The owner fingerprint recorded on sessions this caller creates ("" when auth is off).
    let owner: String
    /// Sees and touches every session (every caller does when auth is off).
    let isAdmin: Bool
    /// How many sessions this caller may hold; nil = no per-caller limit (auth off).
    let maxSessions: Int?
    /// The rate-limit bucket: the key's fingerprint, else the client's address.
    let rateKey: String

    /// Whether this caller may see a session owned by `owner`.
    func owns(_ owner: String) -> Bool { isAdmin || owner == self.owner }
}
