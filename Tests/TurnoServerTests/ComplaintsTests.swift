import Foundation
import Testing
import TurnoCore

@testable import Queues

@Suite("Complaints: customers report a problem, managers answer it")
struct ComplaintsTests {
    struct CustomerView: Decodable {
        let state: String
        let text: String?
        let reply: String?
        let replied_at: String?
    }

    struct StaffView: Decodable {
        struct Staff: Decodable {
            let id: Int64
            let username: String?
        }

        struct Note: Decodable {
            let by: Staff?
            let state: String?
            let assignee_id: Int64?
            let unassigned: Bool
            let note: String?
            let reply: String?
        }

        let id: Int64
        let branch_id: Int64
        let ticket_number: String
        let service: String?
        let counter: String?
        let served_by: Staff?
        let text: String?
        let state: String
        let assignee: Staff?
        let reply: String?
        let notes: [Note]?
    }

    struct Page: Decodable {
        let items: [StaffView]
        let next_cursor: String?
    }

    static let json = [("Content-Type", "application/json")]

    /// A ticket served by `operator` at counter 1; returns its token and id.
    static func served(_ server: TestServer, by client: StaffClient) async throws -> QueueAPITests.Issued {
        let ticket = try #require(try await QueueAPITests.issue(server, service: 2).ticket)
        #expect(try await client.call(.POST, "/api/v1/queues/1/call-next").status == 200)
        #expect(try await client.call(.POST, "/api/v1/tickets/\(ticket.id)/finish").status == 200)
        return ticket
    }

    @Test("made within seven days of the visit, once; answered, assigned and resolved with notes, all audited", arguments: TestDatabase.available)
    func lifecycle(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        var identity = TestServer.identity
        identity.accessTokenSeconds = 30 * 86_400
        try await withTestServer(database, identity: identity, clock: clock) { server in
            let admin = try await QueueAPITests.setUp(server)
            let (olaID, ola) = try await admin.createUser("ola", role: .operator, branches: [1])
            let (maraID, mara) = try await admin.createUser("mara", role: .manager, branches: [1])
            let ticket = try await Self.served(server, by: ola)
            let path = "/api/v1/tickets/\(ticket.token)/complaint"
            #expect(try await server.request(.GET, path).status == 404)

            // Bad complaints change nothing.
            for (body, status, detail) in [
                (#"{"text":"   "}"#, 422, "is empty"), (#"{"text":"\#(String(repeating: "x", count: 2_001))"}"#, 422, "at most 2000"),
                (#"{"txt":"hi"}"#, 400, "`text` is required"), (#"{"text":null}"#, 422, "null"),
            ] {
                let response = try await server.request(.POST, path, body: body, headers: Self.json)
                #expect(response.status == status && response.body.contains(detail), "\(body.prefix(30)): \(response.status) \(response.body)")
            }
            let waiting = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let early = try await server.request(.POST, "/api/v1/tickets/\(waiting.token)/complaint", body: #"{"text":"Slow"}"#, headers: Self.json)
            #expect(early.status == 409 && early.body.contains("once ticket"))
            #expect(try await server.request(.POST, "/api/v1/tickets/not-a-token/complaint", body: #"{"text":"Slow"}"#, headers: Self.json).status == 404)

            let made = try await server.request(.POST, path, body: #"{"text":"  The clerk was rude.  "}"#, headers: Self.json)
            #expect(made.status == 201)
            #expect(try decodeJSON(CustomerView.self, made.body).text == "The clerk was rude.")
            let again = try await server.request(.POST, path, body: #"{"text":"And again"}"#, headers: Self.json)
            #expect(again.status == 409 && again.body.contains("already been reported"))

            // The inbox of the branch's manager.
            let inbox = try decodeJSON(Page.self, try await mara.call(.GET, "/api/v1/complaints").body)
            #expect(inbox.items.map(\.id) == [1])
            let listed = inbox.items[0]
            #expect(listed.ticket_number == ticket.number && listed.service == "Bills" && listed.counter == "1" && listed.served_by?.id == olaID)
            #expect(listed.state == "open" && listed.text == "The clerk was rude." && listed.assignee == nil)
            #expect(try await ola.call(.GET, "/api/v1/complaints").status == 403)

            // A state change needs a note or a reply; an operator cannot be given it; a manager can.
            let silent = try await mara.call(.PATCH, "/api/v1/complaints/1", json: #"{"state":"acknowledged"}"#)
            #expect(silent.status == 422 && silent.body.contains("say why"))
            let toOperator = try await mara.call(.PATCH, "/api/v1/complaints/1", json: #"{"assignee_id":\#(olaID)}"#)
            #expect(toOperator.status == 422 && toOperator.body.contains("cannot handle"))
            #expect(try await mara.call(.PATCH, "/api/v1/complaints/1", json: #"{}"#).status == 422)
            #expect(try await mara.call(.PATCH, "/api/v1/complaints/1", json: #"{"assignee_id":\#(maraID),"unassign":true}"#).status == 400)
            #expect(try decodeJSON(StaffView.self, try await mara.call(.GET, "/api/v1/complaints/1").body).notes?.isEmpty == true)

            let acknowledged = try await mara.call(
                .PATCH,
                "/api/v1/complaints/1",
                json: #"{"state":"acknowledged","note":"Asked Ola","assignee_id":\#(maraID)}"#
            )
            #expect(acknowledged.status == 200)
            #expect(try decodeJSON(StaffView.self, acknowledged.body).assignee?.username == "mara")
            #expect(try decodeJSON(CustomerView.self, try await server.request(.GET, path).body).state == "acknowledged")
            clock.advance(by: .seconds(3_600))
            let resolved = try await mara.call(
                .PATCH,
                "/api/v1/complaints/1",
                json: #"{"state":"resolved","reply":"We are sorry: we spoke with our colleague.","unassign":true}"#
            )
            #expect(resolved.status == 200)
            let view = try decodeJSON(StaffView.self, resolved.body)
            #expect(view.state == "resolved" && view.assignee == nil && view.reply == "We are sorry: we spoke with our colleague.")
            #expect(view.notes?.map(\.state) == ["acknowledged", "resolved"])
            #expect(view.notes?.map(\.note) == ["Asked Ola", nil] && view.notes?.map(\.assignee_id) == [maraID, nil])
            #expect(view.notes?.map(\.unassigned) == [false, true] && view.notes?.allSatisfy { $0.by?.id == maraID } == true)
            let customer = try decodeJSON(CustomerView.self, try await server.request(.GET, path).body)
            #expect(customer.state == "resolved" && customer.reply == "We are sorry: we spoke with our colleague." && customer.replied_at != nil)
            #expect(try decodeJSON(Page.self, try await mara.call(.GET, "/api/v1/complaints").body).items.isEmpty)
            #expect(try decodeJSON(Page.self, try await mara.call(.GET, "/api/v1/complaints?state=resolved").body).items.map(\.id) == [1])
            #expect(try await mara.call(.GET, "/api/v1/complaints?state=closed").status == 400)

            // Every step is audited, the customer's included.
            #expect(try await admin.audit("action=complaint.filed").count == 1)
            #expect(try await admin.audit("action=complaint.changed").count == 2)
            // It counts in the reports, under the operator who served the ticket.
            let report = try decodeJSON(ReportsAPITests.Report.self, try await mara.call(.GET, "/api/v1/reports?branch=1&group=operator").body)
            #expect(report.rows.first { $0.key == String(olaID) }?.complaints == 1 && report.total.complaints == 1)

            // Seven days after the visit is the last moment.
            let late = try await Self.served(server, by: ola)
            clock.advance(by: .seconds(7 * 86_400 + 1))
            let tooLate = try await server.request(.POST, "/api/v1/tickets/\(late.token)/complaint", body: #"{"text":"Late"}"#, headers: Self.json)
            #expect(tooLate.status == 409 && tooLate.body.contains("seven days"))
        }
    }

    @Test("other branches' and organizations' complaints do not exist for a manager; nothing changes", arguments: TestDatabase.available)
    func isolation(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            let ticket = try await Self.served(server, by: admin)
            let made = try await server.request(.POST, "/api/v1/tickets/\(ticket.token)/complaint", body: #"{"text":"Cold room"}"#, headers: Self.json)
            #expect(made.status == 201)
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"North"}"#).status == 201)
            let (_, north) = try await admin.createUser("nina", role: .manager, branches: [2])
            _ = try await server.platform.identity.createOrganization(name: "Other", adminUsername: "other", adminPassword: "other-password-1")
            let other = try await StaffClient.login(server, "other", "other-password-1")
            for client in [north, other] {
                #expect(try await client.call(.GET, "/api/v1/complaints/1").status == 404)
                let change = try await client.call(.PATCH, "/api/v1/complaints/1", json: #"{"state":"resolved","note":"Not mine"}"#)
                #expect(change.status == 404)
                #expect(try decodeJSON(Page.self, try await client.call(.GET, "/api/v1/complaints").body).items.isEmpty)
            }
            #expect(try await north.call(.GET, "/api/v1/complaints?branch=1").status == 404)
            let kept = try decodeJSON(StaffView.self, try await admin.call(.GET, "/api/v1/complaints/1").body)
            #expect(kept.state == "open" && kept.notes?.isEmpty == true)
            #expect(try await admin.audit("action=complaint.changed").isEmpty)
            #expect(try await admin.call(.GET, "/api/v1/complaints/99").status == 404)
        }
    }
}
