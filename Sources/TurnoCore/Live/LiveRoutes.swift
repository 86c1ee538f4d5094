import AsyncAlgorithms
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

/// The three ways a client follows topics: WebSocket, Server-Sent Events and polling.
///
/// - `GET /live/ws?topics=a,b&since=ID`
/// - `GET /live/sse?topics=a,b` (resumes from `Last-Event-ID`, or `since`)
/// - `GET /live/poll?topics=a,b&since=ID&wait=SECONDS` → `{"last_id": ID, "messages": [...]}`
public struct LiveRoutes: Sendable {
    let hub: LiveHub
    let heartbeat: Duration
    let access: TopicAccess

    public init(hub: LiveHub, heartbeat: Duration, access: TopicAccess) {
        self.hub = hub
        self.heartbeat = heartbeat
        self.access = access
    }

    /// What a live request asks for.
    struct LiveQuery: Sendable {
        var topics: Set<String>
        var since: Int64?

        static let maximumTopics = 50

        init(_ request: Request, principal: Principal?, access: TopicAccess) throws(Problem) {
            let parameters = request.uri.queryParameters
            guard let list = parameters["topics"], !list.isEmpty else {
                throw .badRequest("name the topics to follow, e.g. ?topics=branch:1,queue:2")
            }
            let topics = list.split(separator: ",", omittingEmptySubsequences: true)
            guard topics.count <= Self.maximumTopics else {
                throw .badRequest("at most \(Self.maximumTopics) topics per connection, got \(topics.count)")
            }
            if let invalid = topics.first(where: { !Topic.isValid($0) }) {
                throw .badRequest("`\(invalid)` is not a topic: use letters, digits and `:_-.`")
            }
            self.topics = Set(topics.map(String.init))
            if let refused = self.topics.first(where: { !access.allows($0, principal) }) {
                throw principal == nil
                    ? Problem(.unauthorized, title: "Sign-in required", detail: "sign in to follow `\(refused)`", headers: [.wwwAuthenticate: "Bearer"])
                    : Problem(.forbidden, detail: "you may not follow `\(refused)`")
            }
            let since = parameters["since"].map(String.init) ?? request.headers[.lastEventID]
            if let since {
                guard let value = Int64(since), value >= 0 else {
                    throw .badRequest("since must be the id of the last message received (a whole number), got `\(since)`")
                }
                self.since = value
            }
        }
    }

    public func add(to router: Router<TurnoRequestContext>) {
        router.ws("/live/ws", shouldUpgrade: shouldUpgrade, onUpgrade: webSocket)
        router.get("/live/sse", use: serverSentEvents)
        router.get("/live/poll", use: poll)
    }

    /// Refuses the upgrade (with the reason) when the query is not one this client may follow.
    @Sendable func shouldUpgrade(_ request: Request, context: TurnoRequestContext) throws -> RouterShouldUpgrade {
        _ = try LiveQuery(request, principal: context.principal, access: access)
        return .upgrade([:])
    }

    @Sendable func webSocket(
        _ inbound: WebSocketInboundStream,
        _ outbound: WebSocketOutboundWriter,
        context: WebSocketRouterContext<TurnoRequestContext>
    ) async throws {
        let query = try LiveQuery(context.request, principal: context.requestContext.principal, access: access)
        let subscription = await hub.subscribe(topics: query.topics, since: query.since)
        defer { Task { await hub.unsubscribe(subscription) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Clients only listen; reading their frames notices when they leave.
                for try await _ in inbound {}
            }
            group.addTask {
                for await message in subscription.messages {
                    try await outbound.write(.text(message.json))
                }
                if let reason = subscription.endReason {
                    let code: WebSocketErrorCode = reason.hasPrefix("server") ? .goingAway : .policyViolation
                    try await outbound.close(code, reason: reason)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    @Sendable func serverSentEvents(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let query = try LiveQuery(request, principal: context.principal, access: access)
        let subscription = await hub.subscribe(topics: query.topics, since: query.since)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: .init { writer in try await stream(subscription, to: &writer) })
    }

    /// Writes the subscription's messages as events, with a comment line every `heartbeat` to keep proxies from closing
    /// a quiet stream, until the subscription ends.
    private func stream(_ subscription: LiveSubscription, to writer: inout any ResponseBodyWriter) async throws {
        enum Item: Sendable {
            case message(LiveMessage)
            case heartbeat, end
        }
        let items = merge(
            chain(subscription.messages.map { Item.message($0) }, [Item.end].async),
            AsyncTimerSequence(interval: heartbeat, clock: .continuous).map { _ in Item.heartbeat }
        )
        do {
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            loop: for await item in items {
                switch item {
                case .message(let message):
                    try await writer.write(ByteBuffer(string: "id: \(message.id)\ndata: \(message.json)\n\n"))
                case .heartbeat:
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                case .end:
                    if let reason = subscription.endReason {
                        try await writer.write(ByteBuffer(string: "event: close\ndata: \(JSONCoding.quoted(reason))\n\n"))
                    }
                    break loop
                }
            }
            await hub.unsubscribe(subscription)
            try await writer.finish(nil)
        } catch {
            await hub.unsubscribe(subscription)
            throw error
        }
    }

    @Sendable func poll(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let query = try LiveQuery(request, principal: context.principal, access: access)
        let wait =
            try request.uri.queryParameters["wait"].map { text throws(Problem) -> Int in
                guard let seconds = Int(text), (0...30).contains(seconds) else {
                    throw .badRequest("wait must be between 0 and 30 seconds, got `\(text)`")
                }
                return seconds
            } ?? 0
        guard let since = query.since else {
            // No position yet: tell the client where "now" is, so its next poll gets what follows.
            return Self.pollResponse(lastID: await hub.latestSequence, messages: [])
        }
        switch await hub.replay(topics: query.topics, since: since, limit: 1_000) {
        case .resync(let reason):
            let latest = await hub.latestSequence
            return Self.pollResponse(lastID: latest, messages: [.resync(latest: latest, reason: reason)])
        case .messages(let messages) where !messages.isEmpty || wait == 0:
            return Self.pollResponse(lastID: messages.last?.id ?? since, messages: messages)
        case .messages:
            // Long poll: hold the request until something arrives or the wait is over.
            let subscription = await hub.subscribe(topics: query.topics, since: since)
            let first = try? await withTimeout(.seconds(wait)) {
                var iterator = subscription.messages.makeAsyncIterator()
                return await iterator.next()
            }
            await hub.unsubscribe(subscription)
            let messages = (first ?? nil).map { [$0] } ?? []
            return Self.pollResponse(lastID: messages.last?.id ?? since, messages: messages)
        }
    }

    static func pollResponse(lastID: Int64, messages: [LiveMessage]) -> Response {
        let body = #"{"last_id":\#(lastID),"messages":[\#(messages.map(\.json).joined(separator: ","))]}"#
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
