/// One entry of the route table.
struct Route: Sendable {
    /// How a route runs: inline, or on its session's serial queue (the `{sid}` path parameter).
    enum Action: Sendable {
        case global(@Sendable (RequestContext) throws(APIError) -> Reply)
        case session(@Sendable (RequestContext, Session) throws(APIError) -> Reply)
    }

    /// What the route answers with, for `Accept` checks made before the handler runs.
    enum Produces: Sendable {
        /// JSON only (406 when `Accept` excludes it).
        case json
        /// Negotiated by the handler (tensor values, graphs, the YAML spec).
        case negotiated
    }

    let method: String
    let path: String
    let produces: Produces
    let action: Action

    init(_ method: String, _ path: String, produces: Produces = .json,
         _ handler: @escaping @Sendable (RequestContext) throws(APIError) -> Reply) {
        self.method = method
        self.path = path
        self.produces = produces
        self.action = .global(handler)
    }

    init(_ method: String, _ path: String, produces: Produces = .json,
         session handler: @escaping @Sendable (RequestContext, Session) throws(APIError) -> Reply) {
        self.method = method
        self.path = path
        self.produces = produces
        self.action = .session(handler)
    }
}

/// The one route table of the API (docs/API.md, openapi.yaml).
enum Routes {
    static let all: [Route] = [
        Route("GET", "/", produces: .negotiated, Handlers.dashboard),
        Route("GET", "/livez", Handlers.livez),
        Route("GET", "/readyz", Handlers.readyz),
        Route("GET", "/openapi.yaml", produces: .negotiated, Handlers.openAPI),
        Route("GET", "/metrics", produces: .negotiated, Handlers.metrics),
        Route("GET", "/v1/ops", Handlers.listOps),
        Route("GET", "/v1/ops/{op}", Handlers.getOp),

        Route("POST", "/v1/sessions", Handlers.createSession),
        Route("GET", "/v1/sessions", Handlers.listSessions),
        Route("GET", "/v1/sessions/{sid}", session: Handlers.getSession),
        Route("DELETE", "/v1/sessions/{sid}", session: Handlers.deleteSession),
        Route("GET", "/v1/sessions/{sid}/flags", session: Handlers.getFlags),
        Route("PATCH", "/v1/sessions/{sid}/flags", session: Handlers.patchFlags),
        Route("POST", "/v1/sessions/{sid}/seed", session: Handlers.seed),
        Route("GET", "/v1/sessions/{sid}/export", produces: .negotiated, session: Handlers.exportSession),
        Route("POST", "/v1/sessions/{sid}/import", session: Handlers.importSession),

        Route("POST", "/v1/sessions/{sid}/scopes", session: Handlers.pushScope),
        Route("GET", "/v1/sessions/{sid}/scopes", session: Handlers.listScopes),
        Route("DELETE", "/v1/sessions/{sid}/scopes/{scope_id}", session: Handlers.popScope),

        Route("POST", "/v1/sessions/{sid}/arrays", session: Handlers.createArray),
        Route("GET", "/v1/sessions/{sid}/arrays", session: Handlers.listArrays),
        Route("GET", "/v1/sessions/{sid}/arrays/{aid}", session: Handlers.getArray),
        Route("DELETE", "/v1/sessions/{sid}/arrays/{aid}", session: Handlers.deleteArray),
        Route("POST", "/v1/sessions/{sid}/release", session: Handlers.release),
        Route("GET", "/v1/sessions/{sid}/arrays/{aid}/data", produces: .negotiated, session: Handlers.getData),
        Route("PUT", "/v1/sessions/{sid}/arrays/{aid}/data", session: Handlers.putData),
        Route("PUT", "/v1/sessions/{sid}/arrays/{aid}/grad", session: Handlers.attachGrad),
        Route("GET", "/v1/sessions/{sid}/arrays/{aid}/grad", produces: .negotiated, session: Handlers.getGrad),
        Route("POST", "/v1/sessions/{sid}/arrays/{aid}/detach", session: Handlers.detach),
        Route("GET", "/v1/sessions/{sid}/arrays/{aid}/graph", produces: .negotiated, session: Handlers.graph),
        Route("POST", "/v1/sessions/{sid}/mark_variables", session: Handlers.markVariables),

        Route("POST", "/v1/sessions/{sid}/ops/{op}", session: Handlers.invoke),
        Route("POST", "/v1/sessions/{sid}/backward", session: Handlers.backward),
        Route("POST", "/v1/sessions/{sid}/grad", session: Handlers.grad),
        Route("POST", "/v1/sessions/{sid}/functions", session: Handlers.defineFunction),
        Route("POST", "/v1/sessions/{sid}/functions/{fid}/call", session: Handlers.callFunction),
        Route("POST", "/v1/sessions/{sid}/run", session: Handlers.run),
    ]
}
