import Foundation
import Testing
import TurnoCore

@testable import TurnoServer

@Suite("Webhooks: signed, retried with back-off, logged, sent again on request, never lost")
struct WebhookTests {
    struct Endpoint: Decodable {
        let id: Int64
        let url: String
        let event_types: [String]
        let enabled: Bool
        let disabled_reason: String?
        let secret: String?
    }

    struct Log: Decodable {
        struct Item: Decodable {
            let id: Int64
            let kind: String
            let event_id: Int64
            let state: String
            let attempts: Int
            let response_code: Int?
            let error: String?
            let next_attempt_at: String?
            let resend_of: Int64?
        }
        let items: [Item]
    }

    struct Payload: Decodable {
        struct Data: Decodable {
            let id: Int64
            let number: String
            let state: String
        }
        let id: String
        let type: String
        let time: String
        let data: Data
    }

    static func subscribe(_ admin: StaffClient, _ receiver: WebhookReceiver, types: String = #"["ticket.*"]"#) async throws -> Endpoint {
        let response = try await admin.call(.POST, "/api/v1/webhooks", json: #"{"url":"\#(receiver.url)","event_types":\#(types)}"#)
        #expect(response.status == 201, "\(response.body)")
        return try decodeJSON(Endpoint.self, response.body)
    }

    static func log(_ admin: StaffClient, _ endpoint: Int64) async throws -> [Log.Item] {
        try decodeJSON(Log.self, try await admin.call(.GET, "/api/v1/webhooks/\(endpoint)/notifications").body).items
    }

    @Test("a ticket's events arrive signed; failures are retried 30 s then 60 s later; the log says how each attempt went", arguments: TestDatabase.available)
    func signedAndRetried(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: 1_800_000_000_000)
        try await withWebhookReceiver { receiver in
            try await withTestServer(database, clock: clock) { server in
                let admin = try await QueueAPITests.setUp(server)
                let endpoint = try await Self.subscribe(admin, receiver)
                let secret = try #require(endpoint.secret)
                #expect(secret.hasPrefix("whsec_"))
                // Shown once: the list does not show it.
                #expect(!(try await admin.call(.GET, "/api/v1/webhooks").body.contains(secret)))
                receiver.answer([.fail(status: 500), .fail(status: 503)])

                let issued = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
                try await eventually { receiver.received.count == 1 }
                // The attempt is counted when it is taken, and its answer written when it comes back.
                try await eventually { try await Self.log(admin, endpoint.id).first?.response_code == 500 }
                var log = try await Self.log(admin, endpoint.id)
                #expect(log.count == 1)
                #expect(log.first?.state == "pending" && log.first?.attempts == 1 && log.first?.response_code == 500)
                // Not yet due: nothing more arrives until the clock reaches the next attempt.
                try await Task.sleep(for: .milliseconds(400))
                #expect(receiver.received.count == 1)
                clock.advance(by: .seconds(30))
                try await eventually { receiver.received.count == 2 }
                clock.advance(by: .seconds(59))
                try await Task.sleep(for: .milliseconds(400))
                #expect(receiver.received.count == 2)
                clock.advance(by: .seconds(1))
                try await eventually { receiver.received.count == 3 }
                try await eventually { try await Self.log(admin, endpoint.id).first?.state == "delivered" }
                log = try await Self.log(admin, endpoint.id)
                #expect(log.first?.attempts == 3 && log.first?.response_code == 204)

                // Every attempt is the same event, with the same ids, signed with the secret at the time it was sent.
                for received in receiver.received {
                    let payload = try JSONCoding.decoder.decode(Payload.self, from: received.body)
                    #expect(payload.type == "ticket.issued" && payload.data.id == issued.id && payload.data.number == issued.number)
                    #expect(received.headers["Turno-Event-Id"] == payload.id)
                    #expect(received.headers["Turno-Notification-Id"] == String(log[0].id))
                    let signature = try #require(received.headers["Turno-Signature"])
                    let sentAt = Int64(signature.split(separator: ",")[0].dropFirst(2))!
                    #expect(WebhookSignature.verify(header: signature, body: received.body, secret: secret, nowSeconds: sentAt))
                    #expect(!WebhookSignature.verify(header: signature, body: received.body + Data(" ".utf8), secret: secret, nowSeconds: sentAt))
                    #expect(!WebhookSignature.verify(header: signature, body: received.body, secret: "whsec_other", nowSeconds: sentAt))
                    // Outside the replay window it is refused.
                    #expect(!WebhookSignature.verify(header: signature, body: received.body, secret: secret, nowSeconds: sentAt + 301))
                }
                #expect(try await admin.audit("action=webhook.created").count == 1)
            }
        }
    }

    @Test("only subscribed types go out; a rotated secret signs beside the new one for a day; resending makes a new notification")
    func subscriptionsRotationAndResend() async throws {
        let clock = ManualClock(nowMs: 1_800_000_000_000)
        try await withWebhookReceiver { receiver in
            try await withTestServer(.sqlite, clock: clock) { server in
                let admin = try await QueueAPITests.setUp(server)
                let endpoint = try await Self.subscribe(admin, receiver, types: #"["ticket.called"]"#)
                _ = try await QueueAPITests.issue(server, service: 1)
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                try await eventually { receiver.received.count == 1 }
                let first = try JSONCoding.decoder.decode(Payload.self, from: receiver.received[0].body)
                #expect(first.type == "ticket.called")

                let rotated = try decodeJSON(Endpoint.self, try await admin.call(.POST, "/api/v1/webhooks/\(endpoint.id)/secret").body)
                let newSecret = try #require(rotated.secret)
                #expect(newSecret != endpoint.secret)
                let log = try await Self.log(admin, endpoint.id)
                let resend = try await admin.call(.POST, "/api/v1/webhooks/\(endpoint.id)/notifications/\(log[0].id)/resend")
                #expect(resend.status == 202)
                try await eventually { receiver.received.count == 2 }
                let again = receiver.received[1]
                #expect(again.headers["Turno-Event-Id"] == first.id)
                #expect(again.headers["Turno-Notification-Id"] != receiver.received[0].headers["Turno-Notification-Id"])
                let signature = try #require(again.headers["Turno-Signature"])
                let now = clock.nowMilliseconds() / 1000
                #expect(signature.components(separatedBy: "v1=").count == 3)
                #expect(WebhookSignature.verify(header: signature, body: again.body, secret: newSecret, nowSeconds: now))
                #expect(WebhookSignature.verify(header: signature, body: again.body, secret: endpoint.secret!, nowSeconds: now))
                #expect(try await Self.log(admin, endpoint.id).first?.resend_of == log[0].id)

                // A day later the old secret no longer signs.
                clock.advance(by: .seconds(86_401))
                let signedIn = try await StaffClient.admin(server)
                #expect(try await signedIn.call(.POST, "/api/v1/webhooks/\(endpoint.id)/notifications/\(log[0].id)/resend").status == 202)
                try await eventually { receiver.received.count == 3 }
                let late = try #require(receiver.received[2].headers["Turno-Signature"])
                #expect(late.components(separatedBy: "v1=").count == 2)
                #expect(
                    !WebhookSignature.verify(
                        header: late,
                        body: receiver.received[2].body,
                        secret: endpoint.secret!,
                        nowSeconds: clock.nowMilliseconds() / 1000
                    )
                )
                #expect(try await signedIn.audit("action=webhook.secret_rotated").count == 1)
                #expect(try await signedIn.audit("action=webhook.resent").count == 2)
            }
        }
    }

    @Test("an endpoint failing for three days is disabled and the audit trail says so; its notification is given up")
    func disabledAfterThreeDays() async throws {
        let clock = ManualClock(nowMs: 1_800_000_000_000)
        try await withWebhookReceiver { receiver in
            receiver.answer(thenAlways: .fail(status: 503))
            try await withTestServer(.sqlite, clock: clock) { server in
                var admin = try await QueueAPITests.setUp(server)
                let endpoint = try await Self.subscribe(admin, receiver)
                _ = try await QueueAPITests.issue(server, service: 1)
                try await eventually { receiver.received.count == 1 }
                var attempts = 1
                // Access tokens last fifteen minutes of the clock: each step signs in again.
                func signIn() async throws -> StaffClient { try await StaffClient.admin(server) }
                // Each next attempt comes when its back-off has passed; six hours apart at most.
                while try await Self.log(admin, endpoint.id).contains(where: { $0.state == "pending" }) {
                    clock.advance(by: .seconds(6 * 3600))
                    admin = try await signIn()
                    attempts += 1
                    try await eventually {
                        if receiver.received.count >= attempts { return true }
                        return try await !Self.log(admin, endpoint.id).contains { $0.state == "pending" }
                    }
                    #expect(attempts < 40)
                }
                let log = try await Self.log(admin, endpoint.id)
                // Retried until the endpoint had failed for three days, then given up: by its own last attempt, or
                // cancelled when another notification's attempt (the day's roll-over expired the ticket meanwhile)
                // disabled the endpoint first. Either way nothing is left waiting to go to a disabled endpoint.
                let issued = try #require(log.first { $0.kind == "ticket.issued" })
                #expect(issued.state == "failed" || issued.state == "cancelled", "\(log)")
                #expect(issued.attempts >= 5)
                #expect(!log.contains { $0.state == "pending" })
                let attemptTimes = receiver.received.map(\.atMs)
                #expect(attemptTimes.count >= 5)
                let shown = try decodeJSON(Endpoint.self, try await admin.call(.GET, "/api/v1/webhooks/\(endpoint.id)").body)
                #expect(!shown.enabled && shown.disabled_reason != nil)
                #expect(try await admin.audit("action=webhook.disabled").count == 1)
                // Disabled: a new event does not go out. Enabled again, the next one does.
                _ = try await QueueAPITests.issue(server, service: 1)
                try await Task.sleep(for: .milliseconds(400))
                let before = receiver.received.count
                receiver.answer(thenAlways: .accept)
                #expect(try await admin.call(.PATCH, "/api/v1/webhooks/\(endpoint.id)", json: #"{"enabled":true}"#).status == 200)
                _ = try await QueueAPITests.issue(server, service: 1)
                try await eventually { receiver.received.count == before + 1 }
            }
        }
    }

    @Test("a node stopped while a receiver holds its request leaves the notification pending; the next node sends it after the lease")
    func nodeStoppedMidDelivery() async throws {
        let clock = ManualClock(nowMs: 1_800_000_000_000)
        let location = try await TestDatabase.sqlite.makeLocation()
        try await withWebhookReceiver { receiver in
            receiver.answer([.hang])
            try await withTestServer(at: location, clock: clock) { server in
                let admin = try await QueueAPITests.setUp(server)
                _ = try await Self.subscribe(admin, receiver)
                _ = try await QueueAPITests.issue(server, service: 1)
                try await eventually { receiver.received.count == 1 }
                try await server.stop()
            }
            receiver.release()
            try await withTestServer(at: location, clock: clock) { server in
                let admin = try await StaffClient.admin(server)
                try await Task.sleep(for: .milliseconds(400))
                #expect(receiver.received.count == 1)
                clock.advance(by: .seconds(121))
                try await eventually { receiver.received.count == 2 }
                #expect(receiver.received[1].headers["Turno-Notification-Id"] == receiver.received[0].headers["Turno-Notification-Id"])
                try await eventually { try await Self.log(admin, 1).first?.state == "delivered" }
            }
        }
    }

    @Test("two nodes taking tickets at once: each event reaches the endpoint once, whichever node leads", arguments: TestDatabase.available)
    func exactlyOnceAcrossNodes(database: TestDatabase) async throws {
        try await withWebhookReceiver { receiver in
            try await withTwoNodes(database) { nodeA, nodeB in
                let admin = try await QueueAPITests.setUp(nodeA)
                _ = try await Self.subscribe(admin, receiver)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<20 {
                        group.addTask { _ = try await QueueAPITests.issue(index % 2 == 0 ? nodeA : nodeB, service: 1) }
                    }
                    try await group.waitForAll()
                }
                try await eventually(timeout: .seconds(60)) { receiver.received.count >= 20 }
                // A little longer, for a second delivery that should not come.
                try await Task.sleep(for: .milliseconds(500))
                let events = receiver.received.compactMap { $0.headers["Turno-Event-Id"] }
                #expect(events.count == 20 && Set(events).count == 20)
            }
        }
    }

    @Test("bad endpoints are refused with the reason; other organizations' endpoints do not exist; only admins manage them")
    func badInput() async throws {
        try await withTestServer(.sqlite) { server in
            let admin = try await QueueAPITests.setUp(server)
            for (body, fragment) in [
                (#"{"url":"ftp://example.org/x","event_types":["ticket.*"]}"#, "`url`"),
                (#"{"url":"not a url","event_types":["ticket.*"]}"#, "`url`"),
                (#"{"url":"https://example.org/x","event_types":[]}"#, "`event_types`"),
                (#"{"url":"https://example.org/x","event_types":["Ticket called"]}"#, "`event_types`"),
            ] {
                let response = try await admin.call(.POST, "/api/v1/webhooks", json: body)
                #expect(response.status == 422 && response.body.contains(fragment), "\(body) → \(response.status) \(response.body)")
            }
            #expect(try await admin.call(.POST, "/api/v1/webhooks", json: #"{"event_types":["ticket.*"]}"#).status == 400)
            #expect(try await admin.call(.GET, "/api/v1/webhooks/99").status == 404)
            #expect(try await admin.call(.POST, "/api/v1/webhooks/99/notifications/1/resend").status == 404)
            let (_, manager) = try await admin.createUser("manny", role: .manager, branches: [1])
            #expect(try await manager.call(.GET, "/api/v1/webhooks").status == 403)
            let created = try await admin.call(.POST, "/api/v1/webhooks", json: #"{"url":"https://example.org/x","event_types":["*"]}"#)
            #expect(created.status == 201)
            _ = try await server.platform.identity.createOrganization(name: "Other", adminUsername: "other", adminPassword: "other password 1")
            let other = try await StaffClient.login(server, "other", "other password 1")
            #expect(try await other.call(.GET, "/api/v1/webhooks/1").status == 404)
            #expect(try await other.call(.DELETE, "/api/v1/webhooks/1").status == 404)
            #expect(try await admin.call(.DELETE, "/api/v1/webhooks/1").status == 204)
            #expect(try await admin.audit("action=webhook.deleted").count == 1)
        }
    }
}
