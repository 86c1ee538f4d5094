import Foundation
import Logging
import Testing

@testable import TurnoCore

@Suite("Live hub: fan-out, replay and slow clients")
struct LiveHubTests {
    func event(_ sequence: Int64, topics: [String], version: Int64 = 1) -> StoredEvent {
        StoredEvent(sequence: sequence, tenant: 1, stream: "s:\(sequence)", version: version, type: "test", topics: topics, data: "{}", timeMs: 0)
    }

    func collect(_ subscription: LiveSubscription, count: Int) async -> [Int64] {
        var ids: [Int64] = []
        for await message in subscription.messages {
            ids.append(message.id)
            if ids.count == count { break }
        }
        return ids
    }

    @Test("each subscriber gets the events of its topics once, in order")
    func fanOut() async {
        let hub = LiveHub(replayCapacity: 100, clientBuffer: 100, logger: Logger(label: "test"))
        let both = await hub.subscribe(topics: ["a", "b"], since: nil)
        let onlyB = await hub.subscribe(topics: ["b"], since: nil)
        await hub.consume([event(1, topics: ["a"]), event(2, topics: ["a", "b"]), event(3, topics: ["c"]), event(4, topics: ["b"])])
        #expect(await collect(both, count: 3) == [1, 2, 4])
        #expect(await collect(onlyB, count: 2) == [2, 4])
    }

    @Test("events already seen are not delivered again")
    func duplicatesIgnored() async {
        let hub = LiveHub(replayCapacity: 100, clientBuffer: 100, logger: Logger(label: "test"))
        let subscription = await hub.subscribe(topics: ["a"], since: nil)
        await hub.consume([event(1, topics: ["a"]), event(2, topics: ["a"])])
        await hub.consume([event(2, topics: ["a"]), event(3, topics: ["a"])])
        #expect(await collect(subscription, count: 3) == [1, 2, 3])
        #expect(await hub.latestSequence == 3)
    }

    @Test("replay returns what came after since, or resync when it is out of the window")
    func replay() async {
        let hub = LiveHub(replayCapacity: 3, clientBuffer: 100, logger: Logger(label: "test"))
        await hub.consume((1...5).map { event($0, topics: ["a"]) })
        #expect(await hub.replay(topics: ["a"], since: 3, limit: 10) == .messages([4, 5].map { LiveMessage(event: event($0, topics: ["a"]), topic: "a") }))
        #expect(await hub.replay(topics: ["a"], since: 2, limit: 10) != .messages([]))
        if case .resync = await hub.replay(topics: ["a"], since: 1, limit: 10) {} else { Issue.record("expected resync for an evicted position") }
        if case .resync = await hub.replay(topics: ["a"], since: 9, limit: 10) {} else { Issue.record("expected resync for a future position") }
        #expect(await hub.replay(topics: ["a"], since: 5, limit: 10) == .messages([]))
        if case .resync = await hub.replay(topics: ["a"], since: 2, limit: 1) {} else { Issue.record("expected resync over the limit") }
    }

    @Test("a subscriber that cannot keep up is disconnected with a reason, and memory stays bounded")
    func slowSubscriber() async {
        let hub = LiveHub(replayCapacity: 10, clientBuffer: 3, logger: Logger(label: "test"))
        let slow = await hub.subscribe(topics: ["a"], since: nil)
        let other = await hub.subscribe(topics: ["b"], since: nil)
        await hub.consume((1...10).map { event($0, topics: ["a"]) })
        // It still gets what fitted in its buffer, then the stream ends.
        var received: [Int64] = []
        for await message in slow.messages { received.append(message.id) }
        #expect(received == [1, 2, 3])
        #expect(slow.endReason?.contains("too far behind") == true)
        // The other subscriber is unaffected.
        await hub.consume([event(11, topics: ["b"])])
        #expect(await collect(other, count: 1) == [11])
    }

    @Test("shutting down ends every subscription")
    func shutDown() async {
        let hub = LiveHub(replayCapacity: 10, clientBuffer: 3, logger: Logger(label: "test"))
        let subscription = await hub.subscribe(topics: ["a"], since: nil)
        await hub.shutDown()
        for await _ in subscription.messages { Issue.record("no message expected") }
        #expect(subscription.endReason == "server shutting down")
    }

    @Test("messages are JSON with id, type, topic, version and data")
    func messageShape() throws {
        let message = LiveMessage(
            event: StoredEvent(
                sequence: 7,
                tenant: 1,
                stream: "ticket:1",
                version: 2,
                type: "ticket.called",
                topics: ["branch:1"],
                data: #"{"counter":"3 \"A\""}"#,
                timeMs: 0
            ),
            topic: "branch:1"
        )
        let decoded = try JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any]
        #expect(decoded?["id"] as? Int == 7)
        #expect(decoded?["type"] as? String == "ticket.called")
        #expect(decoded?["topic"] as? String == "branch:1")
        #expect(decoded?["version"] as? Int == 2)
        #expect(decoded?["time"] as? String == "1970-01-01T00:00:00.000Z")
        #expect((decoded?["data"] as? [String: Any])?["counter"] as? String == #"3 "A""#)
    }
}

@Suite("Live hub: positions with gaps in the sequence")
struct LiveHubGapTests {
    @Test("a rolled-back transaction's unused sequence numbers do not force a resync")
    func sequenceHoles() async {
        let hub = LiveHub(replayCapacity: 10, clientBuffer: 10, logger: Logger(label: "test"))
        await hub.seed(recent: [], knownAfter: 0, latest: 0)
        // Sequence 1 and 2 were taken by transactions that rolled back.
        let event = StoredEvent(sequence: 3, tenant: 1, stream: "s", version: 1, type: "t", topics: ["a"], data: "{}", timeMs: 0)
        await hub.consume([event])
        #expect(await hub.replay(topics: ["a"], since: 0, limit: 10) == .messages([LiveMessage(event: event, topic: "a")]))
    }

    @Test("seeding from the log after a restart keeps old positions resumable")
    func seeded() async {
        let hub = LiveHub(replayCapacity: 2, clientBuffer: 10, logger: Logger(label: "test"))
        let events = (5...7).map { StoredEvent(sequence: $0, tenant: 1, stream: "s", version: $0, type: "t", topics: ["a"], data: "{}", timeMs: 0) }
        await hub.seed(recent: events, knownAfter: 4, latest: 7)
        #expect(await hub.replay(topics: ["a"], since: 5, limit: 10) == .messages(events.suffix(2).map { LiveMessage(event: $0, topic: "a") }))
        if case .resync = await hub.replay(topics: ["a"], since: 4, limit: 10) {} else { Issue.record("5 was dropped from the window: expected resync") }
    }
}
