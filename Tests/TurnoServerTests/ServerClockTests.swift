import Foundation
import Testing
import TurnoCore

@testable import Queues

@Suite("The server's clock")
struct ServerClockTests {
    struct Status: Decodable {
        let issued_at: String
    }

    @Test("changes are stamped with the server's clock, to the millisecond, as the API writes them", arguments: TestDatabase.available)
    func stampedByTheClock(database: TestDatabase) async throws {
        // Now, give or take, so that tokens stay valid; with a millisecond part the API must not round away.
        let start = SystemClock().nowMilliseconds() / 1000 * 1000 + 123
        let clock = ManualClock(nowMs: start)
        try await withTestServer(database, clock: clock) { server in
            _ = try await QueueAPITests.setUp(server)
            let first = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            clock.advance(by: .milliseconds(1_250))
            let second = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let status = try decodeJSON(Status.self, try await server.request(.GET, "/api/v1/tickets/\(second.token)").body)
            #expect(status.issued_at == Timestamp.format(milliseconds: start + 1_250))
            #expect(try await QueueStore(storage: server.storage).ticket(id: first.id)?.issuedAtMs == start)
        }
    }

    @Test("the daily roll-over runs when its clock moves on, without waiting in real time", arguments: TestDatabase.available)
    func rolloverFollowsTheClock(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        try await withTestServer(database, clock: clock) { server in
            _ = try await QueueAPITests.setUp(server)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let store = QueueStore(storage: server.storage)
            #expect(try await store.ticket(id: ticket.id)?.state == .waiting)
            clock.advance(by: .seconds(86_400))
            // Other loops sleep on the same clock, so the test cannot tell whether the roll-over was asleep during the
            // move; if it was busy, it sleeps until the next midnight: the clock steps on by hours until it runs.
            try await eventually {
                if try await store.ticket(id: ticket.id)?.state == .expired { return true }
                clock.advance(by: .seconds(3_600))
                return false
            }
        }
    }
}
