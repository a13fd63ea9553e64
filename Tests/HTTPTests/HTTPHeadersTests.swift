import Testing
@testable import HTTP

@Suite("HTTPHeaders")
struct HTTPHeadersTests {
    @Test("lookup is ASCII case-insensitive and keeps order and repeats")
    func lookup() {
        var headers = HTTPHeaders([("Accept", "a"), ("X-Multi", "1"), ("x-multi", "2")])
        #expect(headers["ACCEPT"] == "a" && headers["x-MULTI"] == "1")
        #expect(headers.values("X-Multi") == ["1", "2"])
        #expect(headers["Accept-Encoding"] == nil && headers["Accep"] == nil)
        headers.add("Vary", "Accept")
        #expect(headers.map(\.name) == ["Accept", "X-Multi", "x-multi", "Vary"])
        headers.replaceOrAdd("X-MULTI", "3")
        #expect(headers.map { "\($0.name)=\($0.value)" } == ["Accept=a", "X-Multi=3", "Vary=Accept"])
        headers.replaceOrAdd("New", "n")
        #expect(headers["new"] == "n" && headers.count == 4)
        headers.remove("accept")
        #expect(!headers.contains("Accept") && headers.count == 3)
    }

    @Test("non-ASCII names are compared exactly")
    func nonASCII() {
        #expect(!HTTPHeaders.nameEquals("Ä", "ä"))
        #expect(HTTPHeaders.nameEquals("Content-Type", "content-type"))
        #expect(!HTTPHeaders.nameEquals("[", "{"), "only letters fold")
    }
}
