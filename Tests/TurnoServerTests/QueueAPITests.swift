import Foundation
import Logging
import NIOHTTP1
import Testing
import TurnoCore

@testable import Queues

/// The queue API end to end over HTTP: set-up, tickets, counters, bad input.
@Suite("Queue API")
struct QueueAPITests {
    struct Issued: Decodable {
        let id: Int64
        let token: String
        let number: String
        let queue: Int64?
        let counter: String?
        let position: Int?
        let ahead: Int?
        let eta_s: Int?
        let status_url: String
    }

    struct Status: Decodable {
        let number: String
        let state: String
        let counter: String?
        let position: Int?
        let ahead: Int?
        let now_serving: String?
        let eta_s: Int?
        let held_reason: String?
    }

    struct Called: Decodable {
        let id: Int64
        let number: String
        let state: String
        let counter: String?
    }

    /// A fixed-offset time zone where it is about midday now, so that no test sees the branch's local midnight
    /// (which restarts the numbering) while it runs.
    static var middayTimeZone: String {
        let hour = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour!
        let offset = 12 - hour
        // The Etc zones count the other way: Etc/GMT-2 is two hours ahead of UTC.
        return offset >= 0 ? "Etc/GMT-\(offset)" : "Etc/GMT+\(-offset)"
    }

    /// A branch (1) with services A (1) and B (2), counter 1 serving A and B, counter 2 serving A.
    static func setUp(_ server: TestServer, mode: String = "dedicated") async throws -> StaffClient {
        let admin = try await StaffClient.admin(server)
        #expect(
            try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centre","time_zone":"\#(middayTimeZone)","routing_mode":"\#(mode)"}"#).status
                == 201
        )
        #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Parcels","prefix":"A","default_service_s":120}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Bills","prefix":"B","priority_weight":2}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/queues", json: #"{"name":"Desk one","counter":"1","services":[1,2]}"#).status == 201)
        #expect(try await admin.call(.POST, "/api/v1/branches/1/queues", json: #"{"name":"Desk two","counter":"2","services":[1]}"#).status == 201)
        return admin
    }

    /// Takes a ticket; the generous timeout is for the concurrency test, where hundreds queue on one branch.
    static func issue(_ server: TestServer, service: Int64, key: String? = nil) async throws -> (status: Int, ticket: Issued?, body: String) {
        var headers = [("Content-Type", "application/json")]
        if let key { headers.append(("Idempotency-Key", key)) }
        let branch = try await server.publicID(ofBranch: 1)
        let response = try await server.request(.POST, "/api/v1/branches/\(branch)/tickets", body: #"{"service":\#(service)}"#, headers: headers, timeout: 120)
        return (response.status, try? decodeJSON(Issued.self, response.body), response.body)
    }

    /// A ticket as a counter action (call, recall, start, finish, transfer) answers it.
    struct Acted: Decodable {
        let id: Int64
        let number: String
        let state: String
        let service: String
        let counter: String?
    }

    struct Dashboard: Decodable {
        struct Queue: Decodable {
            let id: Int64
            let served_today: Int
        }
        struct Service: Decodable {
            let id: Int64
            let arrivals_last_hour: Int
            let probability_of_waiting: Double?
        }
        let queues: [Queue]
        let services: [Service]
    }

    /// A branch's display snapshot.
    struct Snapshot: Decodable {
        struct Call: Decodable {
            let number: String
            let counter: String?
        }
        let last_calls: [Call]
    }

    /// The answer to closing a queue.
    struct QueueChange: Decodable {
        struct Moved: Decodable {
            let number: String
            let state: String
            let counter: String?
        }
        let reallocated: [Moved]
    }

    struct CreatedKey: Decodable { let key: String }

    @Test("a customer's day: issue, follow, get called, served, rate", arguments: TestDatabase.available)
    func customerJourney(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await Self.setUp(server)
            let first = try #require(try await Self.issue(server, service: 1).ticket)
            let second = try #require(try await Self.issue(server, service: 1).ticket)
            let third = try #require(try await Self.issue(server, service: 1).ticket)
            #expect([first.number, second.number, third.number] == ["A001", "A002", "A003"])
            // Least-loaded routing: counters 1 and 2 take turns.
            #expect(Set([first.queue, second.queue]) == [1, 2])
            #expect(first.position == 1 && first.ahead == 0)
            #expect(first.token.count >= 22)
            #expect(first.status_url == "/api/v1/tickets/\(first.token)")

            let thirdStatus = try decodeJSON(Status.self, try await server.request(.GET, "/api/v1/tickets/\(third.token)").body)
            #expect(thirdStatus.state == "waiting" && thirdStatus.position == 2 && thirdStatus.ahead == 1)
            #expect(thirdStatus.eta_s == 120)

            let queueOfThird = try #require(third.queue)
            let call = try await admin.call(.POST, "/api/v1/queues/\(queueOfThird)/call-next")
            #expect(call.status == 200)
            let called = try decodeJSON(Called.self, call.body)
            #expect(called.state == "called" && called.counter == String(queueOfThird))
            let afterCall = try decodeJSON(Status.self, try await server.request(.GET, "/api/v1/tickets/\(third.token)").body)
            #expect(afterCall.position == 1 && afterCall.now_serving == called.number)

            #expect(try await admin.call(.POST, "/api/v1/tickets/\(called.id)/recall").status == 200)
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(called.id)/start").status == 200)
            let finished = try await admin.call(.POST, "/api/v1/tickets/\(called.id)/finish")
            #expect(finished.status == 200)
            #expect(try decodeJSON(Acted.self, finished.body).state == "served")
            let token = called.id == first.id ? first.token : second.token
            #expect(
                try await server.request(
                    .POST,
                    "/api/v1/tickets/\(token)/rating",
                    body: #"{"rating":5,"comment":"quick"}"#,
                    headers: [("Content-Type", "application/json")]
                ).status == 204
            )
            #expect(
                try await server.request(.POST, "/api/v1/tickets/\(token)/rating", body: #"{"rating":4}"#, headers: [("Content-Type", "application/json")])
                    .status == 409
            )

            // The customer can cancel with the token; then the ticket is gone from the line.
            let cancelled = try await server.request(.DELETE, "/api/v1/tickets/\(third.token)")
            #expect(cancelled.status == 200)
            #expect(try decodeJSON(Status.self, cancelled.body).state == "cancelled")
            #expect(try await server.request(.DELETE, "/api/v1/tickets/\(third.token)").status == 409)

            let dashboardAnswer = try await admin.call(.GET, "/api/v1/branches/1/dashboard")
            #expect(dashboardAnswer.status == 200)
            let dashboard = try decodeJSON(Dashboard.self, dashboardAnswer.body)
            // One served, at the counter that called it; three arrived, all for Parcels.
            #expect(dashboard.queues.map(\.served_today).reduce(0, +) == 1)
            #expect(dashboard.queues.first { $0.id == queueOfThird }?.served_today == 1)
            #expect(dashboard.services.map(\.arrivals_last_hour).reduce(0, +) == 3)
            #expect(dashboard.services.first { $0.id == 1 }?.arrivals_last_hour == 3)
            #expect(dashboard.services.contains { $0.probability_of_waiting != nil })
            #expect(try await server.request(.GET, "/api/v1/branches/1/dashboard").status == 401)

            let snapshotAnswer = try await server.request(.GET, "/api/v1/branches/\(try await server.publicID(ofBranch: 1))/snapshot")
            #expect(snapshotAnswer.status == 200)
            let snapshot = try decodeJSON(Snapshot.self, snapshotAnswer.body)
            #expect(!snapshot.last_calls.isEmpty)
            #expect(snapshot.last_calls.allSatisfy { $0.number == called.number && $0.counter == called.counter })
            // No ticket's token is anywhere in what a display reads.
            #expect(!snapshotAnswer.body.contains(first.token))
        }
    }

    @Test("a ticket page hears its new position whenever it changes, not only on its own events", arguments: TestDatabase.available)
    func positionsPushed(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await Self.setUp(server)
            #expect(try await admin.call(.POST, "/api/v1/queues/2/pause").status == 200)
            var tickets: [Issued] = []
            for _ in 0..<3 { tickets.append(try #require(try await Self.issue(server, service: 1).ticket)) }
            #expect(tickets.allSatisfy { $0.queue == 1 })
            let topic = "ticket:\(tickets[2].token)"
            // The ticket's topic also carries its own events: its `ticket.issued` may still be on its way from the event
            // log when the page subscribes (a loaded PostgreSQL run showed it), so only the position pushes are counted.
            let isPosition: @Sendable (ReceivedMessage) -> Bool = { $0.type == "ticket.position" }
            let url = "ws://127.0.0.1:\(server.port)/live/ws?topics=\(topic)"
            let (messages, _) = try await receiveOverWebSocket(url: url, count: 2, counting: isPosition) { received in
                // Positions are pushed, never replayed: call only once the node knows the page follows its ticket, and
                // call again once the first push has arrived, so that the two calls are two changes.
                try await eventually { await server.platform.hub.followedTopics(prefix: "ticket:").contains(topic) }
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                try await eventually { received().contains(where: isPosition) }
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
            }
            #expect(messages.filter(isPosition).count == 2)
            #expect(messages.allSatisfy { isPosition($0) || $0.type == "ticket.issued" })
            #expect(messages.allSatisfy { $0.topic == topic })
            let status = try decodeJSON(Status.self, try await server.request(.GET, "/api/v1/tickets/\(tickets[2].token)").body)
            #expect(status.position == 1 && status.now_serving == "A002")
        }
    }

    @Test("the daily roll-over expires tickets left waiting from an earlier local day", arguments: TestDatabase.available)
    func rollover(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            _ = try await Self.setUp(server)
            let old = try #require(try await Self.issue(server, service: 1).ticket)
            let fresh = try #require(try await Self.issue(server, service: 1).ticket)
            try await server.storage.write { transaction in
                try await transaction.sql.raw("UPDATE tickets SET issued_at_ms = issued_at_ms - 86400000 WHERE id = \(bind: old.id)").run()
            }
            let store = QueueStore(storage: server.storage)
            await DailyRollover(
                store: store,
                storage: server.storage,
                logger: Logger(label: "test"),
                retention: RetentionCommands(store: store),
                interval: .seconds(60)
            )
            .rollOver()
            #expect(try await store.ticket(id: old.id)?.state == .expired)
            #expect(try await store.ticket(id: fresh.id)?.state == .waiting)
        }
    }

    @Test("a retried issue with the same Idempotency-Key returns the same ticket")
    func idempotentIssue() async throws {
        try await withTestServer { server in
            _ = try await Self.setUp(server)
            let first = try await Self.issue(server, service: 1, key: "kiosk-7-req-42")
            let retry = try await Self.issue(server, service: 1, key: "kiosk-7-req-42")
            #expect(first.status == 201 && retry.status == 200)
            #expect(first.ticket?.token == retry.ticket?.token && first.ticket?.number == retry.ticket?.number)
            #expect(try await Self.issue(server, service: 1, key: "another").ticket?.number == "A002")
        }
    }

    @Test("bad input gets a useful problem")
    func badInput() async throws {
        try await withTestServer { server in
            let admin = try await Self.setUp(server)
            let unknownService = try await Self.issue(server, service: 99)
            #expect(unknownService.status == 404 && unknownService.body.contains("no service 99"))
            // B is served only by counter 1: pause it and B has no open counter.
            #expect(try await admin.call(.POST, "/api/v1/queues/1/pause").status == 200)
            let unserved = try await Self.issue(server, service: 2)
            #expect(unserved.status == 409 && unserved.body.contains("no open counter serves Bills"))
            #expect(try await admin.call(.POST, "/api/v1/queues/1/open").status == 200)
            // Finishing a ticket never called.
            let waiting = try #require(try await Self.issue(server, service: 1).ticket)
            let finish = try await admin.call(.POST, "/api/v1/tickets/\(waiting.id)/finish")
            #expect(finish.status == 409 && finish.body.contains("A001 is waiting, so it cannot be finished"))
            // Invalid values.
            #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"X","prefix":"A"}"#).status == 409)
            #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"X","prefix":"A1"}"#).status == 422)
            #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"X","prefix":"Q","priority_weight":11}"#).status == 422)
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"X","time_zone":"Mars/Olympus"}"#).status == 422)
            #expect(try await admin.call(.POST, "/api/v1/branches/1/queues", json: #"{"name":"X","counter":"9","services":[42]}"#).status == 422)
            #expect(
                try await server.request(
                    .POST,
                    "/api/v1/branches/\(try await server.publicID(ofBranch: 1))/tickets",
                    body: #"{"service":1,"class":"royal"}"#,
                    headers: [("Content-Type", "application/json")]
                ).status == 400
            )
            #expect(
                try await server.request(
                    .POST,
                    "/api/v1/tickets/\(waiting.token)/rating",
                    body: #"{"rating":9}"#,
                    headers: [("Content-Type", "application/json")]
                ).status == 422
            )
            #expect(try await server.request(.GET, "/api/v1/tickets/not-a-token").status == 404)
            #expect(try await admin.call(.POST, "/api/v1/queues/77/call-next").status == 404)
            // A closed branch takes no tickets.
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"is_open":false}"#).status == 200)
            let closed = try await Self.issue(server, service: 1)
            #expect(closed.status == 409 && closed.body.contains("branch is closed"))
        }
    }

    @Test("closing a queue reallocates its waiting tickets; held tickets are placed when a queue opens", arguments: TestDatabase.available)
    func closeWithReallocation(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await Self.setUp(server)
            var tickets: [Issued] = []
            for service: Int64 in [1, 2, 1, 2, 1] { tickets.append(try #require(try await Self.issue(server, service: service).ticket)) }
            let close = try await admin.call(.POST, "/api/v1/queues/1/close")
            #expect(close.status == 200)
            let change = try decodeJSON(QueueChange.self, close.body)
            // Every B ticket is held (only counter 1 serves B); A tickets went to counter 2.
            #expect(change.reallocated.filter { $0.number.hasPrefix("B") }.allSatisfy { $0.state == "held" })
            #expect(change.reallocated.filter { $0.number.hasPrefix("A") }.allSatisfy { $0.state == "waiting" && $0.counter == "2" })
            let heldStatus = try decodeJSON(Status.self, try await server.request(.GET, "/api/v1/tickets/\(tickets[1].token)").body)
            #expect(heldStatus.state == "held" && heldStatus.held_reason?.contains("keep your place") == true)
            let line = try decodeJSON(Line.self, try await admin.call(.GET, "/api/v1/queues/1/tickets").body)
            #expect(line.items.isEmpty)
            #expect(try await admin.call(.POST, "/api/v1/queues/1/open").status == 200)
            let placed = try decodeJSON(Status.self, try await server.request(.GET, "/api/v1/tickets/\(tickets[1].token)").body)
            #expect(placed.state == "waiting" && placed.counter == "1")
            let audit = try await admin.audit("action=queue.closed")
            #expect(audit.contains { $0.action == "queue.closed" })
        }
    }

    @Test("transfer keeps the customer's place; operators act only on their own queues; other organizations see nothing")
    func transferAndScope() async throws {
        try await withTestServer { server in
            let admin = try await Self.setUp(server)
            let (operatorID, operatorClient) = try await admin.createUser("ops", role: .operator, branches: [1])
            #expect(try await admin.call(.PATCH, "/api/v1/queues/2", json: #"{"operators":[\#(operatorID)]}"#).status == 200)
            #expect(try await admin.call(.PATCH, "/api/v1/queues/1", json: #"{"operators":[1]}"#).status == 200)
            let early = try #require(try await Self.issue(server, service: 1).ticket)
            #expect(try await operatorClient.call(.POST, "/api/v1/queues/1/call-next").status == 403)
            let transferred = try await operatorClient.call(.POST, "/api/v1/tickets/\(early.id)/transfer", json: #"{"service":2}"#)
            #expect(transferred.status == 200)
            let moved = try decodeJSON(Acted.self, transferred.body)
            #expect(moved.id == early.id && moved.service == "Bills")
            #expect(try await operatorClient.call(.POST, "/api/v1/tickets/\(early.id)/transfer", json: #"{"service":99}"#).status == 404)

            let (_, _) = try await server.platform.identity.createOrganization(name: "Other", adminUsername: "other-admin", adminPassword: "other-password")
            let other = try await StaffClient.login(server, "other-admin", "other-password")
            #expect(try await other.call(.GET, "/api/v1/branches/1/queues").status == 404)
            #expect(try await other.call(.POST, "/api/v1/queues/1/call-next").status == 404)
            #expect(try await other.call(.POST, "/api/v1/tickets/\(early.id)/start").status == 404)
            #expect(try decodeJSON(JSONValue.self, try await other.call(.GET, "/api/v1/branches").body) == .object(["items": .array([])]))
        }
    }

    struct Operators: Decodable {
        struct Operator: Decodable {
            let id: Int64
            let username: String
            let queues: [Int64]
        }
        let items: [Operator]
    }

    struct Line: Decodable {
        struct Item: Decodable {
            let id: Int64
            let number: String
            let position: Int
            let transferred_at: String?
        }
        let items: [Item]
    }

    @Test("a ticket goes to one counter or to a colleague's counter, first in line with its transfer said", arguments: TestDatabase.available)
    func transferToCounterOrColleague(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await Self.setUp(server)
            let (anna, _) = try await admin.createUser("anna", role: .operator, branches: [1])
            #expect(try await admin.call(.PATCH, "/api/v1/queues/2", json: #"{"operators":[\#(anna)]}"#).status == 200)
            let operators = try decodeJSON(Operators.self, try await admin.call(.GET, "/api/v1/branches/1/operators").body)
            #expect(operators.items.map(\.username) == ["anna"] && operators.items.first?.queues == [2])

            // Three A tickets; the oldest is called at counter 1, then sent to counter 2 by name.
            var tickets: [Issued] = []
            for _ in 0..<3 { tickets.append(try #require(try await Self.issue(server, service: 1).ticket)) }
            let called = try decodeJSON(Called.self, try await admin.call(.POST, "/api/v1/queues/1/call-next").body)
            #expect(called.id == tickets[0].id)
            let toCounter = try await admin.call(.POST, "/api/v1/tickets/\(called.id)/transfer", json: #"{"queue":2}"#)
            #expect(toCounter.status == 200)
            #expect(try decodeJSON(Called.self, toCounter.body).counter == "2")
            // The display keeps the call it showed (A001 at counter 1) although the transfer cleared it.
            let snapshot = try await server.request(.GET, "/api/v1/branches/\(try await server.publicID(ofBranch: 1))/snapshot")
            let calls = try decodeJSON(Snapshot.self, snapshot.body).last_calls
            #expect(calls.first?.number == called.number && calls.first?.counter == "1")
            var line = try decodeJSON(Line.self, try await admin.call(.GET, "/api/v1/queues/2/tickets").body)
            #expect(line.items.first?.id == called.id && line.items.first?.transferred_at != nil)
            #expect(line.items.dropFirst().allSatisfy { $0.transferred_at == nil })

            // Another goes to anna (counter 2 is hers), now for Bills — which counter 2 does not serve: refused, nothing changes.
            let refused = try await admin.call(.POST, "/api/v1/tickets/\(tickets[1].id)/transfer", json: #"{"user":\#(anna),"service":2}"#)
            #expect(refused.status == 409 && refused.body.contains("serves Bills"))
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(tickets[1].id)/transfer", json: #"{"queue":2,"service":2}"#).status == 409)
            let toAnna = try await admin.call(.POST, "/api/v1/tickets/\(tickets[1].id)/transfer", json: #"{"user":\#(anna)}"#)
            #expect(toAnna.status == 200)
            #expect(try decodeJSON(Called.self, toAnna.body).counter == "2")
            line = try decodeJSON(Line.self, try await admin.call(.GET, "/api/v1/queues/2/tickets").body)
            #expect(line.items.prefix(2).map(\.id) == [tickets[0].id, tickets[1].id])

            // Bad targets: both a counter and a colleague, nothing at all, a colleague at no counter.
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(tickets[2].id)/transfer", json: #"{"queue":2,"user":\#(anna)}"#).status == 422)
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(tickets[2].id)/transfer", json: "{}").status == 422)
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(tickets[2].id)/transfer", json: #"{"user":1}"#).status == 409)
            let audit = try await admin.audit("action=ticket.transferred")
            #expect(audit.contains { $0.detail["to_user"] == String(anna) && $0.detail["to_queue"] == "2" }, "\(audit.map(\.detail))")
        }
    }

    @Test("anonymous ticket issue is rate-limited per address; kiosks with an API key are not")
    func anonymousLimit() async throws {
        try await withTestServer(rateLimits: RateLimits(api: nil, exports: nil), ticketLimit: "3/minute") { server in
            let admin = try await Self.setUp(server)
            var statuses: [Int] = []
            for _ in 0..<4 { statuses.append(try await Self.issue(server, service: 1).status) }
            #expect(statuses == [201, 201, 201, 429])
            let key = try decodeJSON(
                CreatedKey.self,
                try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"kiosk","scopes":["tickets:issue"]}"#).body
            )
            let kiosk = try await server.request(
                .POST,
                "/api/v1/branches/1/tickets",
                body: #"{"service":1}"#,
                headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(key.key)")]
            )
            #expect(kiosk.status == 201)
        }
    }
}

/// Real concurrency: many customers and operators at once, on one node (SQLite) and on two nodes sharing PostgreSQL.
@Suite("Queue concurrency")
struct QueueConcurrencyTests {
    @Test("500 concurrent tickets and 50 concurrent call-next: no duplicate numbers, nothing called twice, nothing lost", arguments: TestDatabase.available)
    func concurrentIssueAndCall(database: TestDatabase) async throws {
        try await withTwoNodes(database) { nodeA, nodeB in
            _ = try await QueueAPITests.setUp(nodeA)
            let issued = try await withThrowingTaskGroup(of: (Int, QueueAPITests.Issued?).self) { group in
                for index in 0..<500 {
                    let node = index.isMultiple(of: 2) ? nodeA : nodeB
                    group.addTask {
                        let result = try await QueueAPITests.issue(node, service: 1)
                        return (result.status, result.ticket)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(issued.allSatisfy { $0.0 == 201 })
            let numbers = issued.compactMap { $0.1?.number }
            #expect(numbers.count == 500 && Set(numbers).count == 500)
            #expect(Set(numbers) == Set((1...500).map { TicketNumber(prefix: "A", sequence: $0).description }))

            let adminA = try await StaffClient.admin(nodeA)
            let adminB = try await StaffClient.admin(nodeB)
            let called = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<50 {
                    let client = index.isMultiple(of: 2) ? adminA : adminB
                    let queue = index % 4 < 2 ? 1 : 2
                    group.addTask {
                        let response = try await client.call(.POST, "/api/v1/queues/\(queue)/call-next", timeout: 120)
                        return (response.status, response.body)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(called.allSatisfy { $0.0 == 200 })
            let calledIDs = try called.map { try decodeJSON(QueueAPITests.Called.self, $0.1).id }
            #expect(Set(calledIDs).count == 50)
            // Every ticket is accounted for: 50 called or served (call-next finishes the previous one), 450 still waiting.
            let states = try await nodeA.storage.read { sql in
                try await sql.raw("SELECT state, COUNT(*) AS n FROM tickets GROUP BY state").all().reduce(into: [String: Int]()) {
                    $0[try $1.decode(column: "state", as: String.self)] = try $1.decode(column: "n", as: Int.self)
                }
            }
            #expect(states["waiting"] == 450)
            #expect((states["called"] ?? 0) + (states["served"] ?? 0) == 50)
        }
    }
}
