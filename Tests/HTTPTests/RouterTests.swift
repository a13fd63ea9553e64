import Testing
@testable import HTTP

@Suite("Router")
struct RouterTests {
    let router = Router<String>([
        ("GET", "/v1/health", "health"),
        ("POST", "/v1/sessions", "createSession"),
        ("GET", "/v1/sessions/{sid}", "getSession"),
        ("DELETE", "/v1/sessions/{sid}", "deleteSession"),
        ("GET", "/v1/sessions/{sid}/arrays/{aid}", "getArray"),
        ("PUT", "/v1/sessions/{sid}/arrays/{aid}", "putArray"),
        ("GET", "/v1/sessions/{sid}/arrays/special", "special"),
        ("POST", "/v1/sessions/{sid}/arrays/static-post", "staticPost"),
        ("GET", "/v1/sessions/{sid}/arrays/{aid}/grad", "getGrad"),
    ])

    private func found(_ method: String, _ path: String) -> (String, [String: String])? {
        if case .found(let route, let params) = router.match(method: method, path: path) { return (route, params) }
        return nil
    }

    @Test("static routes and {param} routes match with decoded parameters")
    func matches() {
        #expect(found("GET", "/v1/health")?.0 == "health")
        #expect(found("GET", "/v1/sessions/s1")?.0 == "getSession")
        #expect(found("GET", "/v1/sessions/s1")?.1 == ["sid": "s1"])
        let array = found("PUT", "/v1/sessions/s%201/arrays/a%2Fb")
        #expect(array?.0 == "putArray")
        #expect(array?.1 == ["sid": "s 1", "aid": "a/b"], "%2F stays inside its segment")
        #expect(found("GET", "/v1/sessions/s1/arrays/a1/grad")?.1 == ["sid": "s1", "aid": "a1"])
    }

    @Test("a static segment wins over a parameter, and a parameter still serves other methods")
    func staticPreferred() {
        #expect(found("GET", "/v1/sessions/s1/arrays/special")?.0 == "special")
        #expect(found("GET", "/v1/sessions/s1/arrays/other")?.0 == "getArray")
        // The static node has only POST: GET falls back to the {aid} route.
        #expect(found("GET", "/v1/sessions/s1/arrays/static-post")?.0 == "getArray")
        #expect(found("POST", "/v1/sessions/s1/arrays/static-post")?.0 == "staticPost")
    }

    @Test("unknown paths give 404, including trailing slashes and empty parameters")
    func notFound() {
        for path in ["/", "/v1", "/v1/healthz", "/v1/health/", "/v1/sessions/", "/v1/sessions//arrays/a", "/v2/health"] {
            guard case .notFound = router.match(method: "GET", path: path) else {
                Issue.record("\(path) should be 404"); continue
            }
        }
    }

    @Test("a known path with another method gives 405 with the Allow list (HEAD with GET)")
    func methodNotAllowed() {
        guard case .methodNotAllowed(let allow) = router.match(method: "PATCH", path: "/v1/sessions/s1") else {
            Issue.record("expected 405"); return
        }
        #expect(allow == ["DELETE", "GET", "HEAD"])
        guard case .methodNotAllowed(let postOnly) = router.match(method: "GET", path: "/v1/sessions") else {
            Issue.record("expected 405"); return
        }
        #expect(postOnly == ["POST"])
        guard case .methodNotAllowed(let union) = router.match(method: "DELETE", path: "/v1/sessions/s/arrays/static-post") else {
            Issue.record("expected 405"); return
        }
        #expect(union == ["GET", "HEAD", "POST", "PUT"], "methods of every matching pattern")
    }

    @Test("HEAD falls back to GET routes")
    func headFallsBackToGet() {
        #expect(found("HEAD", "/v1/health")?.0 == "health")
        #expect(found("HEAD", "/v1/sessions/x")?.1 == ["sid": "x"])
    }

    @Test("bad encodings, NUL, invalid UTF-8 and dot segments are rejected", arguments: [
        "/v1/sessions/%zz", "/v1/sessions/%4", "/v1/sessions/a%00b", "/v1/sessions/%FF", "/v1/../health",
        "/v1/sessions/..", "/v1/./health", "/v1/sessions/%2e%2e", "v1/health",
    ])
    func invalidPaths(_ path: String) {
        guard case .invalidPath = router.match(method: "GET", path: path) else {
            Issue.record("\(path) should be invalid"); return
        }
    }

    @Test("the router matches a parsed request's raw path")
    func matchesParsedRequest() {
        let request = HTTPRequest(method: "GET", target: "/v1/sessions/a%3Fb/arrays/c?x=%2F")
        #expect(request.rawPath == "/v1/sessions/a%3Fb/arrays/c")
        guard case .found(let route, let params) = router.match(method: request.method, path: request.rawPath) else {
            Issue.record("expected a match"); return
        }
        #expect(route == "getArray" && params == ["sid": "a?b", "aid": "c"])
    }
}
