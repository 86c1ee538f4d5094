import Foundation
import Testing
import TurnoCore

@testable import Queues

@Suite("Ticket history: who did what to each ticket, and when")
struct TicketHistoryTests {
    struct History: Decodable {
        struct Ticket: Decodable {
            let id: Int64
            let number: String
            let state: String
        }

        struct Step: Decodable {
            struct Staff: Decodable {
                let id: Int64
                let username: String?
            }

            let step: String
            let at: String
            let by: Staff?
            let service_id: Int64
            let queue_id: Int64?
            let counter: String?
            let from_service_id: Int64?
            let from_queue_id: Int64?
        }

        let ticket: Ticket
        let steps: [Step]
    }

    struct Me: Decodable {
        let user_id: Int64
    }

    @Test("every step is kept with its time, its counter and the staff member who took it", arguments: TestDatabase.available)
    func timeline(database: TestDatabase) async throws {
        let start = SystemClock().nowMilliseconds()
        let clock = ManualClock(nowMs: start)
        try await withTestServer(database, clock: clock) { server in
            let admin = try await QueueAPITests.setUp(server)
            let (managerID, manager) = try await admin.createUser("mara", role: .manager, branches: [1])
            let adminID = try decodeJSON(Me.self, try await admin.call(.GET, "/api/v1/me").body).user_id
            // A customer takes a ticket online; it waits at counter 1, the least loaded.
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            clock.advance(by: .seconds(60))
            #expect(try await admin.call(.POST, "/api/v1/queues/\(ticket.queue!)/call-next").status == 200)
            clock.advance(by: .seconds(30))
            #expect(try await manager.call(.POST, "/api/v1/tickets/\(ticket.id)/recall").status == 200)
            #expect(try await manager.call(.POST, "/api/v1/tickets/\(ticket.id)/transfer", json: #"{"service":2}"#).status == 200)
            clock.advance(by: .seconds(5))
            // Calling the transferred ticket: the next one of whichever counter now has it.
            let transferred = try decodeJSON(History.self, try await admin.call(.GET, "/api/v1/tickets/\(ticket.id)/history").body)
            let counter = try #require(transferred.steps.last?.queue_id)
            #expect(try await admin.call(.POST, "/api/v1/queues/\(counter)/call-next").status == 200)
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(ticket.id)/start").status == 200)
            clock.advance(by: .seconds(120))
            #expect(try await manager.call(.POST, "/api/v1/tickets/\(ticket.id)/finish").status == 200)

            let history = try decodeJSON(History.self, try await manager.call(.GET, "/api/v1/tickets/\(ticket.id)/history").body)
            #expect(history.ticket.id == ticket.id && history.ticket.state == "served")
            #expect(history.steps.map(\.step) == ["issued", "called", "recalled", "transferred", "called", "started", "served"])
            #expect(history.steps.map { $0.by?.id } == [nil, adminID, managerID, managerID, adminID, adminID, managerID])
            #expect(history.steps[2].by?.username == "mara")
            let offsets: [Int64] = [0, 60_000, 90_000, 90_000, 95_000, 95_000, 215_000]
            #expect(history.steps.map(\.at) == offsets.map { Timestamp.format(milliseconds: start + $0) })
            #expect(history.steps[0].queue_id == ticket.queue && history.steps[0].service_id == 1)
            let transfer = history.steps[3]
            #expect(transfer.service_id == 2 && transfer.from_service_id == 1 && transfer.from_queue_id == ticket.queue)
            #expect(history.steps[4].queue_id == counter && history.steps[4].counter != nil)
        }
    }

    @Test("a ticket given up by its customer, or expired by the server, names no staff member", arguments: TestDatabase.available)
    func stepsWithoutStaff(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            #expect(try await server.request(.DELETE, "/api/v1/tickets/\(ticket.token)").status == 200)
            let history = try decodeJSON(History.self, try await admin.call(.GET, "/api/v1/tickets/\(ticket.id)/history").body)
            #expect(history.steps.map(\.step) == ["issued", "cancelled"])
            #expect(history.steps.allSatisfy { $0.by == nil })
        }
    }

    @Test("another organization's staff, a manager of another branch and unknown ids get nothing", arguments: TestDatabase.available)
    func access(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"North","time_zone":"Europe/Rome"}"#).status == 201)
            let (_, elsewhere) = try await admin.createUser("otto", role: .manager, branches: [2])
            #expect(try await elsewhere.call(.GET, "/api/v1/tickets/\(ticket.id)/history").status == 403)
            #expect(try await admin.call(.GET, "/api/v1/tickets/999999/history").status == 404)
            #expect(try await admin.call(.GET, "/api/v1/tickets/not-a-number/history").status == 404)
            #expect(try await server.request(.GET, "/api/v1/tickets/\(ticket.id)/history").status == 401)
            _ = try await server.platform.identity.createOrganization(name: "B", adminUsername: "admin-b", adminPassword: "admin-b-password")
            let stranger = try await StaffClient.login(server, "admin-b", "admin-b-password")
            let response = try await stranger.call(.GET, "/api/v1/tickets/\(ticket.id)/history")
            #expect(response.status == 404 && !response.body.contains(ticket.number))
        }
    }

    struct Page: Decodable {
        struct Item: Decodable {
            let id: Int64
            let number: String
            let service_id: Int64
            let state: String
            let waited_s: Int?
            let served_s: Int?
        }

        let items: [Item]
        let next_cursor: String?
    }

    @Test("a branch's tickets by local day, filtered and paged, as JSON and as CSV", arguments: TestDatabase.available)
    func list(database: TestDatabase) async throws {
        let start = SystemClock().nowMilliseconds()
        let clock = ManualClock(nowMs: start)
        // Tokens that outlive the day the clock is moved on.
        var identity = TestServer.identity
        identity.accessTokenSeconds = 3 * 86_400
        try await withTestServer(database, identity: identity, clock: clock) { server in
            let admin = try await QueueAPITests.setUp(server)
            let (managerID, manager) = try await admin.createUser("mara", role: .manager, branches: [1])
            // Yesterday: two tickets, one served by the manager; today: three, one cancelled.
            let first = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            #expect(try await manager.call(.POST, "/api/v1/queues/\(try #require(first.queue))/call-next").status == 200)
            clock.advance(by: .seconds(40))
            #expect(try await manager.call(.POST, "/api/v1/tickets/\(first.id)/start").status == 200)
            clock.advance(by: .seconds(100))
            #expect(try await manager.call(.POST, "/api/v1/tickets/\(first.id)/finish").status == 200)
            let yesterday = [first.id, try #require(try await QueueAPITests.issue(server, service: 2).ticket).id]
            let yesterdayDay = LocalDay.of(start, timeZone: QueueAPITests.middayTimeZone)
            clock.advance(by: .seconds(86_400))
            var today: [QueueAPITests.Issued] = []
            for service in [1, 1, 2] as [Int64] { today.append(try #require(try await QueueAPITests.issue(server, service: service).ticket)) }
            #expect(try await server.request(.DELETE, "/api/v1/tickets/\(today[1].token)").status == 200)

            func page(_ query: String) async throws -> Page {
                let response = try await manager.call(.GET, "/api/v1/branches/1/tickets?\(query)")
                #expect(response.status == 200, "\(response.body)")
                return try decodeJSON(Page.self, response.body)
            }
            // Today by default; yesterday when asked, and both days together.
            #expect(try await page("").items.map(\.id) == today.map(\.id))
            let before = try await page("from=\(yesterdayDay)&to=\(yesterdayDay)")
            #expect(before.items.map(\.id) == yesterday)
            #expect(before.items[0].state == "served" && before.items[0].waited_s == 0 && before.items[0].served_s == 100)
            let both = "from=\(yesterdayDay)"
            #expect(try await page(both).items.count == 5)
            #expect(try await page("\(both)&service=2").items.map(\.id) == [yesterday[1], today[2].id])
            #expect(try await page("\(both)&state=cancelled").items.map(\.id) == [today[1].id])
            #expect(try await page("\(both)&operator=\(managerID)").items.map(\.id) == [yesterday[0]])
            #expect(try await page("\(both)&channel=online&class=regular").items.count == 5)
            // Pages of two: every ticket once, in order.
            var seen: [Int64] = []
            var cursor: String? = ""
            while let next = cursor {
                let current = try await page("\(both)&limit=2" + (next.isEmpty ? "" : "&cursor=\(next)"))
                seen += current.items.map(\.id)
                cursor = current.next_cursor
            }
            #expect(seen == yesterday + today.map(\.id))
            // CSV: the header, then the same tickets, by the file route or by Accept.
            let csv = try await manager.call(.GET, "/api/v1/branches/1/tickets.csv?\(both)")
            let lines = csv.body.split(separator: "\r\n")
            #expect(csv.status == 200 && lines.first?.hasPrefix("id,number,service_id,service,") == true)
            #expect(lines.dropFirst().map { Int64($0.split(separator: ",")[0]) } == (yesterday + today.map(\.id)).map(Optional.some))
            let accepted = try await manager.call(.GET, "/api/v1/branches/1/tickets?\(both)", headers: [("Accept", "text/csv")])
            #expect(accepted.body == csv.body)
        }
    }

    @Test("bad filters are a clear 400; other branches and organizations are out of reach", arguments: TestDatabase.available)
    func listRefusals(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            for (query, detail) in [
                ("from=2026-11-21&to=2026-11-20", "is after to"),
                ("from=2024-01-01&to=2026-11-20", "at most 731 days"),
                ("from=2026-02-30", "must be a date"),
                ("state=lost", "is not a state"),
                ("service=99", "no service 99"),
                ("queue=99", "no queue 99"),
                ("operator=9999", "no staff member 9999"),
                ("limit=5000", "limit must be between"),
                ("cursor=abc", "not one this server gave out"),
            ] {
                let response = try await admin.call(.GET, "/api/v1/branches/1/tickets?\(query)")
                #expect(response.status == 400 && response.body.contains(detail), "\(query): \(response.body)")
            }
            let (_, operatorClient) = try await admin.createUser("olga", role: .operator, branches: [1])
            #expect(try await operatorClient.call(.GET, "/api/v1/branches/1/tickets").status == 403)
            _ = try await server.platform.identity.createOrganization(name: "B", adminUsername: "admin-b", adminPassword: "admin-b-password")
            let stranger = try await StaffClient.login(server, "admin-b", "admin-b-password")
            #expect(try await stranger.call(.GET, "/api/v1/branches/1/tickets").status == 404)
            #expect(try await stranger.call(.GET, "/api/v1/branches/1/tickets.csv").status == 404)
        }
    }
}
