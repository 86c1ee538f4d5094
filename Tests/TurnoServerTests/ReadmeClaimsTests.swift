import Foundation
import Testing
import TurnoCore

/// What the README promises, checked against the running server.
@Suite("README claims")
struct ReadmeClaimsTests {
    @Test("managers and admins read the dashboard; receptionists and operators do not")
    func dashboardForManagers() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            let (_, manager) = try await admin.createUser("manager", role: .manager, branches: [1])
            let (_, reception) = try await admin.createUser("desk", role: .reception, branches: [1])
            let (_, operatorClient) = try await admin.createUser("counter", role: .operator, branches: [1])
            #expect(try await admin.call(.GET, "/api/v1/branches/1/dashboard").status == 200)
            #expect(try await manager.call(.GET, "/api/v1/branches/1/dashboard").status == 200)
            #expect(try await reception.call(.GET, "/api/v1/branches/1/dashboard").status == 403)
            #expect(try await operatorClient.call(.GET, "/api/v1/branches/1/dashboard").status == 403)
        }
    }

    @Test("TURNO_RATE_EXPORTS limits every CSV export: the audit trail's and the sessions'")
    func exportLimit() async throws {
        let limits = RateLimits(api: nil, signedIn: nil, publicReads: nil, exports: .init(2, per: .seconds(3_600)))
        try await withTestServer(rateLimits: limits) { server in
            let admin = try await StaffClient.admin(server)
            #expect(try await admin.call(.GET, "/api/v1/sessions.csv").status == 200)
            #expect(try await admin.call(.GET, "/api/v1/sessions", headers: [("Accept", "text/csv")]).status == 200)
            let limited = try await admin.call(.GET, "/api/v1/sessions.csv")
            #expect(limited.status == 429 && limited.body.contains("export"))
            // JSON reads are not exports.
            #expect(try await admin.call(.GET, "/api/v1/sessions").status == 200)
            #expect(try await admin.call(.GET, "/api/v1/audit.csv").status == 429)
        }
    }

    @Test("a called customer is announced three more times at most: the fourth recall makes the ticket a no-show")
    func recallsBeforeNoShow() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let queue = try #require(ticket.queue)
            #expect(try await admin.call(.POST, "/api/v1/queues/\(queue)/call-next").status == 200)
            for _ in 1...3 {
                let recalled = try await admin.call(.POST, "/api/v1/tickets/\(ticket.id)/recall")
                #expect(recalled.status == 200)
                #expect(try decodeJSON(QueueAPITests.Called.self, recalled.body).state == "called")
            }
            let fourth = try await admin.call(.POST, "/api/v1/tickets/\(ticket.id)/recall")
            #expect(fourth.status == 200)
            #expect(try decodeJSON(QueueAPITests.Called.self, fourth.body).state == "no_show")
        }
    }
}
