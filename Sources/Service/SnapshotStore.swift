import Foundation
import Glibc

/// The snapshot files under `--data-dir`: `sessions/<id>.tsnap`, written atomically (temp file,
/// fsync, rename, fsync of the directory); unreadable ones are moved to `corrupt/`.
struct SnapshotStore: Sendable {
    static let fileExtension = ".tsnap"
    static let temporarySuffix = ".tmp"

    let directory: String
    var sessionsDirectory: String { directory + "/sessions" }
    var corruptDirectory: String { directory + "/corrupt" }

    /// An error writing, reading or moving a snapshot file.
    struct IOError: Error, CustomStringConvertible {
        let description: String
        init(_ operation: String, _ path: String) {
            description = "\(operation) \(path): \(String(cString: strerror(errno)))"
        }
    }

    /// Creates the directories if needed.
    func prepare() throws(IOError) {
        for path in [directory, sessionsDirectory, corruptDirectory] {
            if mkdir(path, 0o700) != 0, errno != EEXIST { throw IOError("mkdir", path) }
        }
    }

    func path(of id: String) -> String { sessionsDirectory + "/" + id + Self.fileExtension }

    /// Replaces the snapshot of session `id` with `bytes`; after it returns the new file is
    /// durable, and at no time is a partial file visible under the final name.
    func write(_ bytes: [UInt8], id: String) throws(IOError) {
        let final = path(of: id)
        let temporary = final + Self.temporarySuffix
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError("open", temporary) }
        var written = 0
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return true
        }
        guard ok, fsync(fd) == 0 else {
            let error = IOError("write", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, final) == 0 else {
            let error = IOError("rename", temporary)
            unlink(temporary)
            throw error
        }
        try syncDirectory(sessionsDirectory)
    }

    /// Removes the snapshot of session `id` (no error if there is none).
    func remove(id: String) {
        unlink(path(of: id))
    }

    /// The session ids with a snapshot file, and the temp files a crash left behind.
    func listing() -> (ids: [String], leftovers: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sessionsDirectory)) ?? []
        let ids = names.filter { $0.hasSuffix(Self.fileExtension) }.map { String($0.dropLast(Self.fileExtension.count)) }
        let leftovers = names.filter { $0.hasSuffix(Self.fileExtension + Self.temporarySuffix) }
        return (ids.sorted(), leftovers.sorted())
    }

    /// Deletes a temp file left by an interrupted write (its rename never happened, so the
    /// previous snapshot, if any, is intact).
    func removeLeftover(_ name: String) { unlink(sessionsDirectory + "/" + name) }

    /// Reads a snapshot file, refusing files larger than `maxBytes` before reading them.
    func read(id: String, maxBytes: Int) throws(SnapshotError) -> [UInt8] {
        let file = path(of: id)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapshotError("open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw SnapshotError("stat: \(String(cString: strerror(errno)))") }
        let size = Int(status.st_size)
        guard size <= maxBytes else { throw SnapshotError("\(size) bytes, over the limit of \(maxBytes)") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        let ok = bytes.withUnsafeMutableBytes { raw -> Bool in
            while done < size {
                let n = Glibc.read(fd, raw.baseAddress! + done, size - done)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        guard ok else { throw SnapshotError("read: short read after \(done) of \(size) bytes") }
        return bytes
    }

    /// Moves an unreadable snapshot to `corrupt/<id>.tsnap.<time>` and returns the new path.
    func setAside(id: String, now: Double) throws(IOError) -> String {
        let destination = corruptDirectory + "/" + id + Self.fileExtension + "." + String(Int(now * 1000))
        guard rename(path(of: id), destination) == 0 else { throw IOError("rename", path(of: id)) }
        try syncDirectory(sessionsDirectory)
        try syncDirectory(corruptDirectory)
        return destination
    }

    private func syncDirectory(_ path: String) throws(IOError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw IOError("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw IOError("fsync", path) }
    }
}
