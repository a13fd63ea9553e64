import Autograd
import HTTP

/// The route handlers: decode, call one ``Session`` (or registry) action, encode.
enum Handlers {
    // MARK: - Operations

    static func livez(_ ctx: RequestContext) throws(APIError) -> Reply {
        .json(DTO.object([("status", .string("ok"))]))
    }

    static func readyz(_ ctx: RequestContext) throws(APIError) -> Reply {
        try ctx.service.registry.checkAcceptsSessions()
        return .json(DTO.object([("status", .string("ok"))]))
    }

    static func openAPI(_ ctx: RequestContext) throws(APIError) -> Reply {
        guard let document = ctx.service.openAPIDocument else {
            throw APIError(.notFound, "The OpenAPI document is not installed next to this server (see --openapi).")
        }
        let offered = ["application/yaml", "application/x-yaml", "text/yaml", "text/plain"]
        guard Negotiation.choose(ctx.request, offered: offered) != nil else { throw Negotiation.notAcceptable(offered) }
        return Reply(status: 200, contentType: "application/yaml", body: document)
    }

    /// Prometheus text exposition; scrapers' `Accept` headers are not checked (there is one format).
    static func metrics(_ ctx: RequestContext) throws(APIError) -> Reply {
        Reply(status: 200, contentType: Metrics.contentType, body: Array(ctx.service.metricsText().utf8))
    }

    /// The built-in dashboard (an HTML page polling this API).
    static func dashboard(_ ctx: RequestContext) throws(APIError) -> Reply {
        Reply(status: 200, headers: [("Cache-Control", "no-cache")], contentType: "text/html; charset=utf-8",
              body: Array(DashboardPage.html.utf8))
    }

    static func listOps(_ ctx: RequestContext) throws(APIError) -> Reply {
        .json(DTO.object([("ops", .array(Operators.catalog.map(DTO.opSpec)))]))
    }

    static func getOp(_ ctx: RequestContext) throws(APIError) -> Reply {
        let name = ctx.parameter("op")
        guard let spec = OperatorIndex.spec(name) else {
            throw APIError(.unknownOp, "Operator '\(name)' is not in the catalog.", ["op": .string(name)])
        }
        return .json(DTO.opSpec(spec))
    }

    // MARK: - Sessions

    static func createSession(_ ctx: RequestContext) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let seed = f.has("seed") ? try Interpreter.seed(f, "seed") : 0
        var labels: [(String, String)] = []
        if let object = f["labels"] {
            guard let members = object.object?.members else { throw f.bad("labels", "an object of strings") }
            for member in members {
                guard let value = member.value.string else { throw f.bad("labels", "an object of strings") }
                labels.append((member.key, value))
            }
        }
        let info = try ctx.service.registry.create(caller: ctx.caller, idleTimeout: try f.int("idle_timeout_s"),
                                                   ttl: try f.int("ttl_s"), seed: seed, labels: labels)
        return .json(DTO.session(info, owner: ctx.service.ownerLabel(info.owner)), status: 201, headers: [("Location", "/v1/sessions/\(info.id)")])
    }

    static func listSessions(_ ctx: RequestContext) throws(APIError) -> Reply {
        let sessions = ctx.service.registry.list(caller: ctx.caller)
        return .json(DTO.object([("sessions", .array(sessions.map { DTO.session($0, owner: ctx.service.ownerLabel($0.owner)) }))]))
    }

    static func getSession(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        guard let info = ctx.service.registry.info(session.id, status: SessionStatus(session)) else {
            throw ctx.service.registry.notFound(session.id, caller: ctx.caller)
        }
        return .json(DTO.session(info, owner: ctx.service.ownerLabel(info.owner)))
    }

    static func deleteSession(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        try ctx.service.registry.delete(session.id, caller: ctx.caller)
        return .noContent
    }

    static func getFlags(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        .json(DTO.flags(session.flags))
    }

    static func patchFlags(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let (previous, current) = session.setFlags(recording: try f.bool("is_recording"), training: try f.bool("is_training"))
        return .json(DTO.object([("previous", DTO.flags(previous)), ("current", DTO.flags(current))]))
    }

    static func seed(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        guard f.has("seed") else { throw f.bad("seed", "a non-negative integer (it is required)") }
        let value = try Interpreter.seed(f, "seed")
        session.seed(value)
        return .json(DTO.object([("seed", .int(Int(value)))]))
    }

    /// The session's arrays and gradient buffers as an `.npz` archive (``SessionNPZ``).
    static func exportSession(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let offered = ["application/x-npz", "application/zip", "application/octet-stream"]
        guard let type = Negotiation.choose(ctx.request, offered: offered) else { throw Negotiation.notAcceptable(offered) }
        return Reply(status: 200, headers: [("Content-Disposition", "attachment; filename=\"\(session.id).npz\"")],
                     contentType: type, body: try SessionNPZ.encode(session.records()))
    }

    /// Adds the arrays of an `.npz` body to the session, all or nothing.
    static func importSession(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let accepted = ["application/x-npz", "application/zip", "application/octet-stream"]
        let type = Negotiation.mediaType(ctx.request.headers["Content-Type"] ?? "")
        guard accepted.contains(type) else {
            throw Negotiation.unsupportedMediaType(type, accepted: accepted.joined(separator: ", "))
        }
        let records = try SessionNPZ.decode(ctx.request.body, maxElements: ctx.service.registry.configuration.maxArrayElements)
        let loaded = try session.load(records)
        return .json(DTO.object([("arrays", DTO.arrayInfos(loaded))]), status: 201)
    }

    // MARK: - Scopes

    static func pushScope(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let frame = try session.pushScope(try f.scopeKind("kind"), trainMode: try f.bool("train_mode"), id: try f.string("id"))
        return .json(DTO.scope(ScopeFrameSnapshot(frame)), status: 201,
                     headers: [("Location", "/v1/sessions/\(session.id)/scopes/\(frame.id)")])
    }

    static func listScopes(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        .json(DTO.object([("scopes", .array(session.scopes.map { DTO.scope(ScopeFrameSnapshot($0)) }))]))
    }

    static func popScope(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        .json(DTO.flags(try session.popScope(ctx.parameter("scope_id"))))
    }

    // MARK: - Arrays

    static func createArray(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let (tensor, id, fields) = try ctx.tensorBody()
        let withData = try Handlers.returnData(fields, ctx)
        let (newID, array) = try session.createArray(tensor, id: id)
        return .json(DTO.arrayInfo(newID, array, data: withData), status: 201,
                     headers: [("Location", "/v1/sessions/\(session.id)/arrays/\(newID)")])
    }

    static func listArrays(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let withData = try ctx.queryBool("data") ?? false
        let arrays = session.arrays.order.compactMap { id in session.arrays.lookup(id).map { (id, $0) } }
        return .json(DTO.object([("arrays", DTO.arrayInfos(arrays, data: withData))]))
    }

    static func getArray(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let id = ctx.parameter("aid")
        return .json(DTO.arrayInfo(id, try session.array(id), data: try ctx.queryBool("data") ?? false))
    }

    static func deleteArray(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        try session.deleteArray(ctx.parameter("aid"))
        return .noContent
    }

    static func release(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let ids = try ctx.fields().requiredIDs("ids", single: true)
        return .json(DTO.object([("released", .int(session.release(ids)))]))
    }

    static func getData(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        try ctx.tensorReply(try session.array(ctx.parameter("aid")))
    }

    static func putData(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let id = ctx.parameter("aid")
        let (tensor, _, _) = try ctx.tensorBody()
        return .json(DTO.arrayInfo(id, try session.assign(id, tensor)))
    }

    static func attachGrad(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let id = ctx.parameter("aid")
        let req = try ctx.fields().gradReq("grad_req") ?? .write
        return .json(DTO.arrayInfo(id, try session.attachGrad(id, gradReq: req)))
    }

    static func getGrad(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        try ctx.tensorReply(try session.gradient(of: ctx.parameter("aid")))
    }

    static func detach(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let (id, array) = try session.detach(ctx.parameter("aid"), newID: try ctx.fields().string("id"))
        return .json(DTO.arrayInfo(id, array), status: 201)
    }

    static func graph(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let format = try Negotiation.graphFormat(ctx.request, format: ctx.query("format"))
        let symbol = try session.symbol(of: ctx.parameter("aid"))
        // `?highlight=false` draws no node as reached; the JSON always reports `grad_reached`.
        let highlighted = (try ctx.queryBool("highlight") ?? true) ? session.lastBackwardReached : []
        switch format {
        case .json: return .json(DTO.symbol(symbol, reached: session.lastBackwardReached))
        case .svg: return Reply(status: 200, contentType: "image/svg+xml", body: try GraphRendering.svg(symbol, highlighted: highlighted))
        case .dot: return Reply(status: 200, contentType: "text/vnd.graphviz", body: try GraphRendering.dot(symbol, highlighted: highlighted))
        }
    }

    static func markVariables(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let (variables, gradients, reqs) = try Interpreter.markVariables(try ctx.fields())
        try session.markVariables(variables, gradients: gradients, gradReqs: reqs)
        return .json(DTO.object([("variables", DTO.strings(variables))]))
    }

    // MARK: - Operators and autograd

    /// `"return_data"` in the body, else `?data=`, else false.
    static func returnData(_ fields: Fields?, _ ctx: RequestContext) throws(APIError) -> Bool {
        if let value = try fields?.bool("return_data") { return value }
        return try ctx.queryBool("data") ?? false
    }

    static func invoke(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let outputs = try session.invoke(ctx.parameter("op"), inputs: try f.ids("inputs") ?? [], params: try f.params("params"),
                                         out: try f.ids("out", single: true), ids: try f.ids("ids"))
        let withData = try Handlers.returnData(f, ctx)
        return .json(DTO.object([("outputs", DTO.arrayInfos(outputs, data: withData))]), status: 201)
    }

    static func backward(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let updated = try session.backward(heads: try f.requiredIDs("heads"), headGrads: try f.optionalIDs("head_grads"),
                                           retainGraph: try f.bool("retain_graph") ?? false,
                                           trainMode: try f.bool("train_mode") ?? true)
        return .json(DTO.object([("updated", DTO.strings(updated))]))
    }

    static func grad(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let grads = try session.grad(heads: try f.requiredIDs("heads"), variables: try f.requiredIDs("variables"),
                                     headGrads: try f.optionalIDs("head_grads"), retainGraph: try f.bool("retain_graph"),
                                     createGraph: try f.bool("create_graph") ?? false,
                                     trainMode: try f.bool("train_mode") ?? true, ids: try f.ids("ids"))
        let withData = try f.bool("return_data") ?? false
        return .json(DTO.object([("grads", DTO.arrayInfos(grads, data: withData))]), status: 201)
    }

    static func defineFunction(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let interpreter = ctx.service.interpreter
        let definition = try interpreter.parseFunction(try ctx.fields())
        let id = session.defineFunction(definition, interpreter: interpreter)
        return .json(DTO.object([("id", .string(id))]), status: 201,
                     headers: [("Location", "/v1/sessions/\(session.id)/functions/\(id)")])
    }

    static func callFunction(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let outputs = try session.callFunction(ctx.parameter("fid"), inputs: try f.requiredIDs("inputs"), ids: try f.ids("ids"))
        return .json(DTO.object([("outputs", DTO.arrayInfos(outputs))]), status: 201)
    }

    static func run(_ ctx: RequestContext, _ session: Session) throws(APIError) -> Reply {
        let f = try ctx.fields()
        let interpreter = ctx.service.interpreter
        var count = 0
        guard f.has("steps") else { throw f.bad("steps", "a list of steps (it is required)") }
        let steps: [Step]
        do {
            steps = try interpreter.parseSteps(f["steps"], path: [], depth: 0, count: &count)
        } catch {
            // A program that does not parse ran no step; its failure reports that like a run failure.
            throw error.with("completed", .int(0))
        }
        let onError = try f.string("on_error") ?? "stop"
        guard onError == "stop" || onError == "continue" else { throw f.bad("on_error", "\"stop\" or \"continue\"") }
        let result = try interpreter.run(steps, fetch: try f.ids("fetch") ?? [], session: session,
                                         continueOnError: onError == "continue")
        return .json(DTO.object([
            ("steps", .int(result.steps)),
            ("fetched", DTO.object(result.fetched.map { ($0.0, DTO.tensor($0.1)) })),
            ("outputs", DTO.object(result.outputs.map { ($0.0, DTO.arrayInfo($0.0, $0.1)) })),
        ]))
    }
}
