import Foundation
import Testing
import TurnoCore

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
}
