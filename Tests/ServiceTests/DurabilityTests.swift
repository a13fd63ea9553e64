import Foundation
import Testing
import Wire
@testable import Service

/// Durable sessions: snapshots written and restored bit for bit, bad snapshots set aside, and
/// the `.npz` export/import routes.
@Suite struct DurabilityTests {
    /// A fresh data directory under the temp directory.
    static func dataDirectory() -> String {
        let path = NSTemporaryDirectory() + "tensord-durability-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func client(_ directory: String, epoch: String, configure: (inout ServiceConfiguration) -> Void = { _ in }) -> TestClient {
        TestClient { configuration in
            configuration.dataDirectory = directory
            configuration.bootEpoch = epoch
            configure(&configuration)
        }
    }

    static func npy<T>(_ values: [T], _ dtype: NPYDType, shape: [Int]? = nil) -> [UInt8] {
        values.withUnsafeBytes { NPY.encode(dtype: dtype, shape: shape ?? [values.count], data: $0) }
    }

    /// The raw `.npy` of an array's values (`path` = `<id>/data`) or gradient (`<id>/grad`).
    static func npyOf(_ client: TestClient, _ session: String, _ path: String) -> [UInt8] {
        let response = client.request("GET", "\(session)/arrays/\(path)", headers: [("Accept", "application/x-npy")])
        #expect(response.status == 200, "\(path): \(response.text)")
        return response.body
    }

    static func post(_ client: TestClient, _ session: String, id: String, _ body: [UInt8]) {
        let response = client.request("POST", "\(session)/arrays?id=\(id)", body: body, headers: [("Content-Type", "application/x-npy")])
        #expect(response.status == 201, "\(response.text)")
    }

    /// A session exercising every durable part: odd float bit patterns (NaN payloads, -0,
    /// subnormals), integer extremes, a gradient filled by a backward pass, a grad_req `add`,
    /// a `mark_variables` gradient that is itself an array, a detached view, labels and flags.
    static func populate(_ client: TestClient) -> String {
        let session = client.newSession(#"{"idle_timeout_s": 600, "labels": {"team": "vision"}}"#)
        let nan64: [UInt64] = [0x7FF8_0000_DEAD_BEEF, 0xFFF0_0000_0000_0001, 0x8000_0000_0000_0000, 0x0000_0000_0000_0001]
        post(client, session, id: "f64", npy(nan64.map { Double(bitPattern: $0) }, .float64, shape: [2, 2]))
        let nan32: [UInt32] = [0x7FC0_1234, 0xFF80_0001, 0x8000_0000, 0x0000_0001, 0x3F80_0000]
        post(client, session, id: "f32", npy(nan32.map { Float(bitPattern: $0) }, .float32))
        post(client, session, id: "i64", npy([Int64.min, -1, 0, Int64.max], .int64))
        post(client, session, id: "i32", npy([Int32.min, 7, Int32.max], .int32))
        post(client, session, id: "u8", npy([UInt8(0), 128, 255], .uint8))
        client.array(session, "x", #""data": [1, 2, 3], "dtype": "float32""#)
        #expect(client.call("PUT", "\(session)/arrays/x/grad", #"{"grad_req": "write"}"#).status == 200)
        let scope = client.call("POST", "\(session)/scopes", #"{"kind": "record"}"#)["id"]?.string ?? ""
        #expect(client.call("POST", "\(session)/ops/square", #"{"inputs": ["x"], "ids": ["y"]}"#).status == 201)
        #expect(client.call("DELETE", "\(session)/scopes/\(scope)").status == 200)
        #expect(client.call("POST", "\(session)/backward", #"{"heads": ["y"]}"#).status == 200)
        client.array(session, "a", #""data": [5, 6], "dtype": "float64""#)
        #expect(client.call("PUT", "\(session)/arrays/a/grad", #"{"grad_req": "add"}"#).status == 200)
        client.array(session, "v", #""data": [1, 1], "dtype": "float64""#)
        client.array(session, "g", #""data": [0.5, 0.25], "dtype": "float64""#)
        #expect(client.call("POST", "\(session)/mark_variables", #"{"variables": ["v"], "gradients": ["g"], "grad_reqs": "write"}"#).status == 200)
        #expect(client.call("POST", "\(session)/arrays/f64/detach", #"{"id": "f64view"}"#).status == 201)
        #expect(client.call("PATCH", "\(session)/flags", #"{"is_training": true}"#).status == 200)
        return session
    }

    static let paths = ["f64/data", "f32/data", "i64/data", "i32/data", "u8/data", "x/data", "x/grad", "y/data",
                        "a/data", "a/grad", "v/data", "v/grad", "g/data", "f64view/data"]

    @Test func snapshotsRestoreEverySessionBitForBit() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = Self.client(directory, epoch: "a1")
        _ = try before.service.restoreSessions()
        let session = Self.populate(before)
        let expected = Self.paths.map { Self.npyOf(before, session, $0) }
        let info = before.call("GET", session)
        let arrays = before.call("GET", "\(session)/arrays")
        let report = before.service.writeSnapshots()
        #expect(report?.written == 1 && report?.failures.isEmpty == true)

        let after = Self.client(directory, epoch: "b2")
        let restored = try after.service.restoreSessions()
        #expect(restored?.restored == [String(session.split(separator: "/").last ?? "")])
        #expect(restored?.setAside.isEmpty == true)
        for (path, bytes) in zip(Self.paths, expected) {
            #expect(Self.npyOf(after, session, path) == bytes, "\(path) differs after restore")
        }
        // Same id, labels, timeout, flags, arrays with grad_reqs; the recorded graph is gone.
        let again = after.call("GET", session)
        #expect(again.status == 200)
        for key in ["id", "created_at", "idle_timeout_s", "labels"] { #expect(again[key] == info[key], "\(key)") }
        #expect(again["state"]?["is_training"]?.bool == true)
        #expect(again["state"]?["is_recording"]?.bool == false)
        let restoredArrays = after.call("GET", "\(session)/arrays")["arrays"]?.array ?? []
        let originalArrays = arrays["arrays"]?.array ?? []
        #expect(restoredArrays.map { $0["id"] } == originalArrays.map { $0["id"] })
        #expect(restoredArrays.map { $0["grad_req"] } == originalArrays.map { $0["grad_req"] })
        #expect(after.call("GET", "\(session)/arrays/y/graph").status != 200)
        // Shared memory stays shared: the detached view and the marked gradient alias.
        #expect(after.call("PUT", "\(session)/arrays/f64/data", #"{"data": [1, 2, 3, 4]}"#).status == 200)
        #expect(after.values(session, "f64view/data") == [1, 2, 3, 4])
        #expect(after.call("PUT", "\(session)/arrays/g/data", #"{"data": [9, 8]}"#).status == 200)
        #expect(after.values(session, "v/grad") == [9, 8])
        // The restored session is served normally, ids of this epoch and earlier ones alike.
        #expect(after.call("POST", "\(session)/ops/square", #"{"inputs": ["x"], "ids": ["z"]}"#).status == 201)
        #expect(after.values(session, "z/data") == [1, 4, 9])
        let unknown = after.call("GET", "/v1/sessions/r0ea1-aaaaaaaaaaaaaaaaaaaaaaaaaa")
        #expect(unknown.status == 404 && unknown["reason"]?.string == "replica-restarted")
    }

    @Test func ownerIsPersisted() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let snapshot = SessionSnapshot(id: "r0ea1-owned", owner: "key-fingerprint", createdAt: 1_800_000_000.5,
                                       idleTimeout: 60, ttl: 86_400, labels: [("k", "v")], flags: Flags(isRecording: true, isTraining: false),
                                       arrays: [ArrayRecord(id: "w", dtype: .int32, shape: [2], data: .bytes([1, 0, 0, 0, 2, 0, 0, 0]),
                                                            grad: (req: .add, buffer: .bytes([0, 0, 0, 0, 0, 0, 0, 0])))])
        let bytes = SnapshotFormat.encode(snapshot)
        let limits = SnapshotLimits(maxBytes: 1 << 20, maxArrayElements: 100, maxArrays: 10)
        #expect(try SnapshotFormat.decode(bytes, limits: limits) == snapshot)
        let store = SnapshotStore(directory: directory)
        try store.prepare()
        try store.write(bytes, id: snapshot.id)
        let client = Self.client(directory, epoch: "b2")
        #expect(try client.service.restoreSessions()?.restored == ["r0ea1-owned"])
        let admin = Caller(owner: "", isAdmin: true, maxSessions: nil, rateKey: "test")
        let handle = try client.service.registry.begin("r0ea1-owned", caller: admin)
        #expect(handle.owner == "key-fingerprint")
        client.service.registry.finish(handle, status: SessionStatus(handle.session), changed: false)
        let restored = client.service.registry.list(caller: admin).first { $0.id == "r0ea1-owned" }
        #expect(restored?.ttl == 86_400 && restored?.createdAt == 1_800_000_000.5)
        #expect(client.call("GET", "/v1/sessions/r0ea1-owned/flags")["is_recording"]?.bool == true)
    }

    @Test func wellFormedButInconsistentSnapshotsAreSetAside() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = SnapshotStore(directory: directory)
        try store.prepare()
        func snapshot(_ id: String, _ arrays: [ArrayRecord]) -> SessionSnapshot {
            SessionSnapshot(id: id, owner: "", createdAt: 0, idleTimeout: 60, ttl: nil, labels: [],
                            flags: Flags(isRecording: false, isTraining: false), arrays: arrays)
        }
        let four = ArrayRecord(id: "w", dtype: .uint8, shape: [4], data: .bytes([1, 2, 3, 4]), grad: nil)
        // Shares memory with an array that does not exist; a valid checksum does not make it valid.
        let dangling = ArrayRecord(id: "v", dtype: .uint8, shape: [4], data: .shared(id: "nope", grad: false), grad: nil)
        try store.write(SnapshotFormat.encode(snapshot("r0ea1-dangling", [four, dangling])), id: "r0ea1-dangling")
        // More arrays than this server allows per session.
        let many = (0..<3).map { ArrayRecord(id: "a\($0)", dtype: .uint8, shape: [1], data: .bytes([0]), grad: nil) }
        try store.write(SnapshotFormat.encode(snapshot("r0ea1-many", many)), id: "r0ea1-many")
        // A file whose name is not the session id inside it.
        try store.write(SnapshotFormat.encode(snapshot("r0ea1-inside", [four])), id: "r0ea1-outside")
        try store.write(SnapshotFormat.encode(snapshot("r0ea1-good", [four])), id: "r0ea1-good")
        let client = Self.client(directory, epoch: "b2") { $0.maxArraysPerSession = 2 }
        let report = try #require(try client.service.restoreSessions())
        #expect(report.restored == ["r0ea1-good"])
        let reasons = report.setAside.map(\.reason).joined(separator: " | ")
        #expect(report.setAside.count == 3, "\(reasons)")
        #expect(reasons.contains("shares memory with 'nope'") && reasons.contains("3 arrays") && reasons.contains("metadata says"), "\(reasons)")
        #expect(client.values("/v1/sessions/r0ea1-good", "w/data") == [1, 2, 3, 4])
    }

    /// A snapshot of one small session, and its file path.
    static func savedSession(_ directory: String) throws -> (session: String, file: String) {
        let client = Self.client(directory, epoch: "a1")
        _ = try client.service.restoreSessions()
        let session = client.newSession()
        client.array(session, "w", #""data": [1, 2, 3, 4]"#)
        #expect(client.service.writeSnapshots()?.written == 1)
        let id = String(session.split(separator: "/").last ?? "")
        return (session, directory + "/sessions/" + id + ".tsnap")
    }

    static func expectSetAside(_ directory: String, session: String, reason: String) throws {
        let client = Self.client(directory, epoch: "b2")
        let report = try #require(try client.service.restoreSessions())
        #expect(report.restored.isEmpty)
        #expect(report.setAside.count == 1)
        #expect(report.setAside.first?.reason.contains(reason) == true, "\(report.setAside)")
        let corrupt = try FileManager.default.contentsOfDirectory(atPath: directory + "/corrupt")
        #expect(corrupt.count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/sessions").isEmpty)
        let response = client.call("GET", session)
        #expect(response.status == 404 && response["reason"]?.string == "replica-restarted")
        #expect(client.service.metricsText().contains("tensord_snapshots_set_aside_total 1"))
    }

    @Test func aFlippedByteIsSetAside() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (session, file) = try Self.savedSession(directory)
        var bytes = try #require(FileManager.default.contents(atPath: file).map { [UInt8]($0) })
        bytes[bytes.count - 3] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        try Self.expectSetAside(directory, session: session, reason: "checksum")
    }

    @Test func aTruncatedFileIsSetAside() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (session, file) = try Self.savedSession(directory)
        let bytes = try #require(FileManager.default.contents(atPath: file))
        try bytes.prefix(bytes.count - 5).write(to: URL(fileURLWithPath: file))
        try Self.expectSetAside(directory, session: session, reason: "truncated")
    }

    @Test func anUnknownVersionIsSetAside() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (session, file) = try Self.savedSession(directory)
        var bytes = try #require(FileManager.default.contents(atPath: file).map { [UInt8]($0) })
        bytes[8] = 9
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        try Self.expectSetAside(directory, session: session, reason: "version")
    }

    @Test func aSnapshotOverTheLimitsIsSetAsideBeforeAllocating() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (session, _) = try Self.savedSession(directory)
        let client = Self.client(directory, epoch: "b2") { $0.maxArrayElements = 3 }
        let report = try #require(try client.service.restoreSessions())
        #expect(report.restored.isEmpty && report.setAside.count == 1)
        #expect(report.setAside.first?.reason.contains("more than 3 elements") == true, "\(report.setAside)")
        #expect(client.call("GET", session).status == 404)
    }

    @Test func tempFileLeftoversAreIgnoredAndRemoved() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (session, file) = try Self.savedSession(directory)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: file + ".tmp"))
        try Data([4, 5]).write(to: URL(fileURLWithPath: directory + "/sessions/r0ea1-gone.tsnap.tmp"))
        let client = Self.client(directory, epoch: "b2")
        let report = try #require(try client.service.restoreSessions())
        #expect(report.restored.count == 1 && report.setAside.isEmpty && report.leftoversRemoved == 2)
        #expect(client.values(session, "w/data") == [1, 2, 3, 4])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/sessions").count == 1)
    }

    @Test func snapshotsOfAnotherReplicaAreLeftInPlace() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = SnapshotStore(directory: directory)
        try store.prepare()
        let theirs = SessionSnapshot(id: "r1ea1-theirs", owner: "", createdAt: 0, idleTimeout: 60, ttl: nil, labels: [],
                                     flags: Flags(isRecording: false, isTraining: false),
                                     arrays: [ArrayRecord(id: "w", dtype: .uint8, shape: [1], data: .bytes([7]), grad: nil)])
        let bytes = SnapshotFormat.encode(theirs)
        try store.write(bytes, id: theirs.id)
        let client = Self.client(directory, epoch: "b2")   // replica 0
        let report = try #require(try client.service.restoreSessions())
        #expect(report.restored.isEmpty && report.setAside.isEmpty && report.foreign == ["r1ea1-theirs"])
        #expect(client.call("GET", "/v1/sessions/r1ea1-theirs").status == 404)
        _ = client.newSession()
        #expect(client.service.writeSnapshots()?.removed == 0)
        #expect(FileManager.default.contents(atPath: store.path(of: theirs.id)).map(Array.init) == bytes)
    }

    @Test func onlyChangedSessionsAreRewrittenAndEndedOnesRemoved() throws {
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let client = Self.client(directory, epoch: "a1")
        _ = try client.service.restoreSessions()
        let first = client.newSession()
        let second = client.newSession()
        #expect(client.service.writeSnapshots()?.written == 2)
        #expect(client.service.writeSnapshots()?.written == 0)
        _ = client.call("GET", "\(first)/arrays")
        #expect(client.service.writeSnapshots()?.written == 0)
        client.array(first, "w", #""data": [1]"#)
        #expect(client.service.writeSnapshots()?.written == 1)
        #expect(client.call("DELETE", second).status == 204)
        let report = client.service.writeSnapshots()
        #expect(report?.written == 0 && report?.removed == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/sessions").count == 1)
        let metrics = client.service.metricsText()
        #expect(metrics.contains("tensord_snapshots_written_total 3"))
        #expect(metrics.contains("tensord_snapshot_passes_total 5"))
    }

    @Test func exportIsAnNpzNumpyLoadsAndImportRoundTrips() throws {
        let client = TestClient()
        let session = Self.populate(client)
        let export = client.request("GET", "\(session)/export")
        #expect(export.status == 200 && export.contentType == "application/x-npz")
        let directory = Self.dataDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/s.npz"
        try Data(export.body).write(to: URL(fileURLWithPath: file))
        let script = """
            import numpy, sys
            z = numpy.load(sys.argv[1])
            assert z['f64'].view('<u8').tolist() == [[0x7FF80000DEADBEEF, 0xFFF0000000000001], [0x8000000000000000, 1]], z['f64']
            assert z['i64'].tolist() == [-2**63, -1, 0, 2**63 - 1]
            assert z['grad/write/x'].tolist() == [2, 4, 6], z['grad/write/x']
            assert z['grad/add/a'].tolist() == [0, 0]
            assert z['grad/write/v'].tolist() == [0.5, 0.25]
            print(','.join(sorted(z.files)))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, file]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "numpy could not read the export")
        #expect(printed.contains("grad/write/x") && printed.contains("f64view"))

        let other = client.newSession()
        let imported = client.request("POST", "\(other)/import", body: export.body, headers: [("Content-Type", "application/x-npz")])
        #expect(imported.status == 201, "\(imported.text)")
        for path in Self.paths {
            #expect(Self.npyOf(client, other, path) == Self.npyOf(client, session, path), "\(path)")
        }
        #expect(client.call("GET", "\(other)/arrays/a")["grad_req"]?.string == "add")
        // All or nothing: a second import collides on every id and adds nothing.
        let again = client.request("POST", "\(other)/import", body: export.body, headers: [("Content-Type", "application/zip")])
        #expect(again.status == 409 && again.code == "array-exists")
        #expect(client.call("GET", "\(other)/arrays")["arrays"]?.array?.count == Self.paths.filter { $0.hasSuffix("/data") }.count)
    }

    @Test func badArchivesGetClearProblems() throws {
        let client = TestClient { $0.sessionMaxBytes = 64 }
        let session = client.newSession()
        func importing(_ members: [NPZMember], type: String = "application/x-npz") throws -> TestResponse {
            client.request("POST", "\(session)/import", body: try NPZ.encode(members), headers: [("Content-Type", type)])
        }
        let small = NPYArray(dtype: .float32, shape: [2], data: [UInt8](repeating: 0, count: 8))
        let garbage = client.request("POST", "\(session)/import", body: [1, 2, 3], headers: [("Content-Type", "application/x-npz")])
        #expect(garbage.status == 400 && garbage.code == "invalid-body")
        #expect(try importing([NPZMember(name: "w", array: small)], type: "text/plain").status == 415)
        let orphan = try importing([NPZMember(name: "grad/write/w", array: small)])
        #expect(orphan.status == 400 && orphan.code == "invalid-body")
        let badReq = try importing([NPZMember(name: "w", array: small), NPZMember(name: "grad/sometimes/w", array: small)])
        #expect(badReq.status == 400)
        let wrongShape = try importing([NPZMember(name: "w", array: small),
                                        NPZMember(name: "grad/write/w", array: NPYArray(dtype: .float32, shape: [1], data: [0, 0, 0, 0]))])
        #expect(wrongShape.status == 422 && wrongShape.code == "shape-mismatch")
        let big = NPYArray(dtype: .float64, shape: [5], data: [UInt8](repeating: 0, count: 40))
        let overBudget = try importing([NPZMember(name: "p", array: big), NPZMember(name: "q", array: big)])
        #expect(overBudget.status == 409 && overBudget.code == "session-quota-exceeded")
        let badID = try importing([NPZMember(name: "no spaces", array: small)])
        #expect(badID.status == 400)
        #expect(client.call("GET", "\(session)/arrays")["arrays"]?.array?.isEmpty == true)
        #expect(try importing([NPZMember(name: "w", array: small)]).status == 201)
    }
}
