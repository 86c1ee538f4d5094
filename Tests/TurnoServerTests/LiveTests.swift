import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
import TurnoCore

@Suite("Live events over WebSocket, SSE and polling")
struct LiveTests {
    struct Rollback: Error {}

    /// The id of the newest event the node has delivered, as a client learns it from `/live/poll`.
    func latestID(_ server: TestServer) async throws -> Int64 {
        let response = try await server.request(.GET, "/live/poll?topics=anything")
        #expect(response.status == 200)
        struct Poll: Decodable { let last_id: Int64 }
        return try JSONDecoder().decode(Poll.self, from: Data(response.body.utf8)).last_id
    }

    @Test("a committed event reaches WebSocket and SSE subscribers; a rolled-back one never does", arguments: TestDatabase.available)
    func committedEventsOnly(database: TestDatabase) async throws {
        let server = try await TestServer.start(database: try await database.makeLocation())
        let since = try await latestID(server)
        async let overWebSocket = receiveOverWebSocket(url: "ws://127.0.0.1:\(server.port)/live/ws?topics=room:1&since=\(since)", count: 1)
        async let overSSE = receiveOverSSE(url: "\(server.baseURL)/live/sse?topics=room:1&since=\(since)", count: 1)
        try await Task.sleep(for: .milliseconds(200))
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
        let poll = try await server.request(.GET, "/live/poll?topics=room:1&since=\(since)")
        #expect(poll.body.contains("test.committed"))
        #expect(!poll.body.contains("test.rolled_back"))
        try await server.stop()
    }

    @Test("a client resuming with since or Last-Event-ID gets exactly what it missed, in order", arguments: TestDatabase.available)
    func resume(database: TestDatabase) async throws {
        let server = try await TestServer.start(database: try await database.makeLocation())
        let first = try await server.publish(stream: "s:1", topics: ["a"])
        let second = try await server.publish(stream: "s:1", topics: ["a", "c"])
        _ = try await server.publish(stream: "s:2", topics: ["b"])
        let fourth = try await server.publish(stream: "s:1", topics: ["a"])
        #expect([first.version, second.version, fourth.version] == [1, 2, 3])

        let (webSocket, _) = try await receiveOverWebSocket(url: "ws://127.0.0.1:\(server.port)/live/ws?topics=a&since=\(first.sequence)", count: 3) {
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
        struct Poll: Decodable {
            let last_id: Int64
            let messages: [ReceivedMessage]
        }
        let decoded = try JSONDecoder().decode(Poll.self, from: Data(poll.body.utf8))
        #expect(decoded.messages.map(\.version) == [4, 5])
        #expect(decoded.last_id == decoded.messages.last?.id)
        try await server.stop()
    }

    @Test("a client asking for events older than the node remembers is told to resync")
    func resyncWhenTooFarBehind() async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation())
        let poll = try await server.request(.GET, "/live/poll?topics=a&since=99")
        #expect(poll.status == 200)
        #expect(poll.body.contains(#""type":"resync""#))
        try await server.stop()
    }

    @Test(
        "an event committed on one node reaches a subscriber of another node sharing PostgreSQL",
        .enabled(if: TestDatabase.postgresURL != nil, "needs the PostgreSQL cluster that scripts/test starts")
    )
    func crossNode() async throws {
        let location = try await TestDatabase.postgres.makeLocation()
        let nodeA = try await TestServer.start(database: location)
        let nodeB = try await TestServer.start(database: location)
        let since = try await latestID(nodeB)
        let (messages, _) = try await receiveOverWebSocket(url: "ws://127.0.0.1:\(nodeB.port)/live/ws?topics=branch:7&since=\(since)", count: 2) {
            try await nodeA.publish(type: "test.on_a", stream: "x:1", topics: ["branch:7"])
            try await nodeB.publish(type: "test.on_b", stream: "x:1", topics: ["branch:7"])
        }
        #expect(messages.map(\.type) == ["test.on_a", "test.on_b"])
        #expect(messages.map(\.version) == [1, 2])
        // And node A saw both too, in the same order.
        let poll = try await nodeA.request(.GET, "/live/poll?topics=branch:7&since=\(since)")
        #expect(poll.body.range(of: "test.on_a")!.lowerBound < poll.body.range(of: "test.on_b")!.lowerBound)
        try await nodeA.stop()
        try await nodeB.stop()
    }

    @Test("graceful shutdown sends live clients a close frame")
    func shutdownClosesLiveConnections() async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation())
        let (messages, close) = try await receiveOverWebSocket(url: "ws://127.0.0.1:\(server.port)/live/ws?topics=a", count: 1) {
            Task {
                try await Task.sleep(for: .milliseconds(200))
                try await server.stop()
            }
        }
        #expect(messages.isEmpty)
        #expect(close?.closeCode == .goingAway)
    }

    @Test(
        "bad live requests get a problem",
        arguments: ["/live/sse", "/live/poll?topics=a%20b", "/live/poll?topics=a&since=-3", "/live/poll?topics=a&since=1&wait=99"]
    )
    func badLiveRequests(path: String) async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation())
        let response = try await server.request(.GET, path)
        #expect(response.status == 400)
        #expect(response.headers["Content-Type"].first == "application/problem+json")
        #expect(response.body.contains(#""detail""#))
        try await server.stop()
    }
}
