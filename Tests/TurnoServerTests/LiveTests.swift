import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
import TurnoCore

@Suite("Live events over WebSocket, SSE and polling")
struct LiveTests {
    struct Rollback: Error {}

    struct Problem: Decodable {
        let status: Int
        let detail: String
    }

    /// The id of the newest event the node has delivered, as a client learns it from `/live/poll`.
    func latestID(_ server: TestServer) async throws -> Int64 {
        let response = try await server.request(.GET, "/live/poll?topics=anything")
        #expect(response.status == 200)
        return try decodeJSON(LivePoll.self, response.body).last_id
    }

    @Test("a committed event reaches WebSocket and SSE subscribers; a rolled-back one never does", arguments: TestDatabase.available)
    func committedEventsOnly(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let since = try await latestID(server)
            async let overWebSocket = receiveOverWebSocket(url: "ws://127.0.0.1:\(server.port)/live/ws?topics=room:1&since=\(since)", count: 1)
            async let overSSE = receiveOverSSE(url: "\(server.baseURL)/live/sse?topics=room:1&since=\(since)", count: 1)
            // Both subscribers are listening when the rolled-back event would be published.
            try await eventually { await server.platform.hub.subscriberCount == 2 }
            await #expect(throws: Rollback.self) {
                try await server.storage.write { transaction in
                    try await transaction.append(NewEvent(tenant: 1, stream: "room:1", type: "test.rolled_back", topics: ["room:1"], json: "{}"))
                    throw Rollback()
                }
            }
            let committed = try await server.publish(type: "test.committed", stream: "room:1", topics: ["room:1"])
            let (webSocketMessages, _) = try await overWebSocket
            let sseMessages = try await overSSE
            #expect(webSocketMessages.map(\.type) == ["test.committed"])
            #expect(webSocketMessages.map(\.id) == [committed.sequence])
            #expect(sseMessages.map(\.message.type) == ["test.committed"])
            #expect(sseMessages.map(\.sseID) == [committed.sequence])
            // The stream's first committed event is version 1: the rolled-back one left no trace.
            #expect(committed.version == 1)
            let poll = try decodeJSON(LivePoll.self, try await server.request(.GET, "/live/poll?topics=room:1&since=\(since)").body)
            #expect(poll.messages.map(\.type) == ["test.committed"])
        }
    }

    @Test("a client resuming with since or Last-Event-ID gets exactly what it missed, in order", arguments: TestDatabase.available)
    func resume(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let first = try await server.publish(stream: "s:1", topics: ["a"])
            let second = try await server.publish(stream: "s:1", topics: ["a", "c"])
            _ = try await server.publish(stream: "s:2", topics: ["b"])
            let fourth = try await server.publish(stream: "s:1", topics: ["a"])
            #expect([first.version, second.version, fourth.version] == [1, 2, 3])

            let (webSocket, _) = try await receiveOverWebSocket(
                url: "ws://127.0.0.1:\(server.port)/live/ws?topics=a&since=\(first.sequence)",
                count: 3
            ) {
                try await server.publish(type: "test.live", stream: "s:1", topics: ["a"])
            }
            #expect(webSocket.map(\.version) == [2, 3, 4])
            #expect(webSocket.map(\.topic) == ["a", "a", "a"])
            #expect(Set(webSocket.map(\.id)).count == 3)
            #expect(webSocket.last?.type == "test.live")

            let sse = try await receiveOverSSE(url: "\(server.baseURL)/live/sse?topics=a", count: 3, lastEventID: second.sequence) {
                try await server.publish(type: "test.live", stream: "s:1", topics: ["a"])
            }
            #expect(sse.map(\.message.version) == [3, 4, 5])
            #expect(sse.map(\.sseID) == sse.map(\.message.id))

            let poll = try await server.request(.GET, "/live/poll?topics=a&since=\(fourth.sequence)")
            let decoded = try decodeJSON(LivePoll.self, poll.body)
            #expect(decoded.messages.map(\.version) == [4, 5])
            #expect(decoded.last_id == decoded.messages.last?.id)
        }
    }

    @Test("a client asking for events older than the node remembers is told to resync")
    func resyncWhenTooFarBehind() async throws {
        try await withTestServer { server in
            let poll = try await server.request(.GET, "/live/poll?topics=a&since=99")
            #expect(poll.status == 200)
            #expect(try decodeJSON(LivePoll.self, poll.body).messages.map(\.type) == ["resync"])
        }
    }

    @Test(
        "an event committed on one node reaches a subscriber of another node sharing PostgreSQL",
        .enabled(if: TestDatabase.postgresURL != nil, "needs the PostgreSQL cluster that scripts/test starts")
    )
    func crossNode() async throws {
        try await withTwoNodes(.postgres) { nodeA, nodeB in
            let since = try await latestID(nodeB)
            let (messages, _) = try await receiveOverWebSocket(url: "ws://127.0.0.1:\(nodeB.port)/live/ws?topics=branch:7&since=\(since)", count: 2) {
                try await nodeA.publish(type: "test.on_a", stream: "x:1", topics: ["branch:7"])
                try await nodeB.publish(type: "test.on_b", stream: "x:1", topics: ["branch:7"])
            }
            #expect(messages.map(\.type) == ["test.on_a", "test.on_b"])
            #expect(messages.map(\.version) == [1, 2])
            // And node A saw both too, in the same order.
            let poll = try decodeJSON(LivePoll.self, try await nodeA.request(.GET, "/live/poll?topics=branch:7&since=\(since)").body)
            #expect(poll.messages.map(\.type) == ["test.on_a", "test.on_b"])
        }
    }

    @Test("graceful shutdown sends live clients a close frame")
    func shutdownClosesLiveConnections() async throws {
        try await withTestServer { server in
            let (messages, close) = try await receiveOverWebSocket(url: "ws://127.0.0.1:\(server.port)/live/ws?topics=a", count: 1) { _ in
                // Stopped once the server counts the connection among its subscribers (stopping again afterwards does nothing).
                try await eventually { await server.platform.hub.subscriberCount == 1 }
                try await server.stop()
            }
            #expect(messages.isEmpty)
            #expect(close?.closeCode == .goingAway)
        }
    }

    @Test(
        "bad live requests get a problem",
        arguments: ["/live/sse", "/live/poll?topics=a%20b", "/live/poll?topics=a&since=-3", "/live/poll?topics=a&since=1&wait=99"]
    )
    func badLiveRequests(path: String) async throws {
        try await withTestServer { server in
            let response = try await server.request(.GET, path)
            #expect(response.status == 400)
            #expect(response.headers["Content-Type"].first == "application/problem+json")
            let problem = try decodeJSON(Problem.self, response.body)
            #expect(problem.status == 400 && !problem.detail.isEmpty)
        }
    }
}
