import Foundation
import Testing
import TurnoCore

@testable import Queues

@Suite("Retention: customers' details are erased once the organization keeps them no longer")
struct RetentionTests {
    struct Retention: Decodable {
        let days: Int?
    }

    @Test(
        "a finished ticket's link and comment go when its days are up, its figures stay; newer and active tickets are kept",
        arguments: TestDatabase.available
    )
    func erasure(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        var identity = TestServer.identity
        identity.accessTokenSeconds = 60 * 86_400
        try await withTestServer(database, identity: identity, clock: clock) { server in
            let admin = try await QueueAPITests.setUp(server)
            #expect(try decodeJSON(Retention.self, try await admin.call(.GET, "/api/v1/retention").body).days == nil)
            #expect(try await admin.call(.PUT, "/api/v1/retention", json: #"{"days":30}"#).status == 200)
            #expect(try decodeJSON(Retention.self, try await admin.call(.GET, "/api/v1/retention").body).days == 30)
            // An old ticket, served and rated with a comment.
            let old = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            // Followed through a push subscription: its address goes with the ticket's other details.
            let userKey = AlertTests.Browser().key.publicKey.x963Representation.base64URL
            let subscription = #"{"endpoint":"http://127.0.0.1:9/push","keys":{"p256dh":"\#(userKey)","auth":"AAAAAAAAAAAAAAAAAAAAAA"}}"#
            let followed = try await AlertTests.follow(server, old.token, #"{"channel":"push","subscription":\#(subscription)}"#)
            #expect(followed.status == 201)
            #expect(try await admin.call(.POST, "/api/v1/queues/\(try #require(old.queue))/call-next").status == 200)
            #expect(try await admin.call(.POST, "/api/v1/tickets/\(old.id)/finish").status == 200)
            let rating = #"{"rating":4,"comment":"Quick, thank you. Call me on 333 1234"}"#
            #expect(
                try await server.request(.POST, "/api/v1/tickets/\(old.token)/rating", body: rating, headers: [("Content-Type", "application/json")]).status
                    == 204
            )
            let complaint = #"{"text":"The clerk kept my ID card. Call me on 333 1234"}"#
            #expect(
                try await server.request(.POST, "/api/v1/tickets/\(old.token)/complaint", body: complaint, headers: [("Content-Type", "application/json")])
                    .status == 201
            )
            #expect(try await admin.call(.PATCH, "/api/v1/complaints/1", json: #"{"state":"resolved","reply":"We called you on 333 1234"}"#).status == 200)
            let day = try decodeJSON(ReportsAPITests.Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1").body)
            try await eventually { clock.sleeping >= 1 }
            clock.advance(by: .seconds(20 * 86_400))
            // Twenty days on, a ticket still waiting (it is not finished) and, ten days later, a fresh one.
            let waiting = try #require(try await QueueAPITests.issue(server, service: 2).ticket)
            clock.advance(by: .seconds(11 * 86_400))
            let store = QueueStore(storage: server.storage)
            // The roll-over wakes only from a sleep on the clock; if it was busy during the move (other loops sleep on
            // the same clock, so the test cannot tell), it sleeps until the next midnight: the clock steps on by hours.
            try await eventually {
                if try await store.ticket(id: old.id)?.token != old.token { return true }
                clock.advance(by: .seconds(3_600))
                return false
            }

            #expect(try await server.request(.GET, "/api/v1/tickets/\(old.token)").status == 404)
            let erased = try await server.storage.read { sql in
                try #require(try await sql.raw("SELECT state, rating, comment, erased_at_ms FROM tickets WHERE id = \(bind: old.id)").first())
            }
            #expect(try erased.decode(column: "state", as: String.self) == "served")
            #expect(try erased.decode(column: "rating", as: Int?.self) == 4)
            #expect(try erased.decode(column: "comment", as: String?.self) == nil)
            #expect(try erased.decode(column: "erased_at_ms", as: Int64?.self) != nil)
            let followers = try await server.storage.read { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM ticket_followers WHERE ticket_id = \(bind: old.id)").first()?.decode(column: "n", as: Int.self)
            }
            #expect(followers == 0)
            // The history keeps the figures of the erased ticket.
            let history = try await admin.call(.GET, "/api/v1/tickets/\(old.id)/history")
            #expect(history.status == 200 && history.body.contains(#""step":"served""#))
            // The complaint keeps its state, not its words; the report of that day is unchanged.
            let erasedComplaint = try await admin.call(.GET, "/api/v1/complaints/1").body
            #expect(erasedComplaint.contains(#""state":"resolved""#) && !erasedComplaint.contains("333") && !erasedComplaint.contains("ID card"))
            let later = try decodeJSON(ReportsAPITests.Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1&from=\(day.from)&to=\(day.to)").body)
            // (Its open time grows: the counters are still open.)
            #expect(later.total.served == day.total.served && later.total.wait_p50_s == day.total.wait_p50_s && later.total.rating_mean == 4)
            #expect(later.total.complaints == 1 && day.total.complaints == 1 && later.total.rating_count == 1)
            // Expired by the roll-over, the waiting ticket is finished now, but only eleven days old: kept.
            #expect(try await store.ticket(id: waiting.id)?.token == waiting.token)
            let audit = try await admin.audit("action=tickets.erased")
            #expect(audit.count == 1 && audit.first?.detail["count"] == "1")
        }
    }

    @Test("only admins set it, within ten years; removing it keeps everything; every change is audited")
    func setting() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            for body in [#"{"days":0}"#, #"{"days":3651}"#] {
                let response = try await admin.call(.PUT, "/api/v1/retention", json: body)
                #expect(response.status == 422 && response.body.contains("`days` must be 1 to 3650"), "\(body)")
            }
            #expect(try await admin.call(.PUT, "/api/v1/retention", json: #"{"days":null}"#).status == 422)
            #expect(try await admin.call(.PUT, "/api/v1/retention", json: #"{}"#).status == 400)
            #expect(try decodeJSON(Retention.self, try await admin.call(.GET, "/api/v1/retention").body).days == nil)
            #expect(try await admin.call(.PUT, "/api/v1/retention", json: #"{"days":90}"#).status == 200)
            #expect(try await admin.call(.DELETE, "/api/v1/retention").status == 200)
            #expect(try decodeJSON(Retention.self, try await admin.call(.GET, "/api/v1/retention").body).days == nil)
            let changes = try await admin.audit("action=retention.changed")
            #expect(Set(changes.map { $0.detail["days"] }) == ["90", "none"])
            let (_, manager) = try await admin.createUser("mara", role: .manager, branches: [1])
            #expect(try await manager.call(.PUT, "/api/v1/retention", json: #"{"days":1}"#).status == 403)
        }
    }
}
