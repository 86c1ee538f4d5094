import Foundation
import NIOHTTP1
import Testing

/// Every change made by staff or an API key leaves a row in the audit trail: this walks every write operation of the
/// OpenAPI document, makes it succeed, and looks for the row.
@Suite("Audit coverage")
struct AuditCoverageTests {
    /// Writes that no staff member or key makes, and why they are not in this walk.
    static let exempt: [String: String] = [
        "POST /api/v1/auth/login": "anonymous; recorded as auth.login and auth.login_failed",
        "POST /api/v1/auth/refresh": "anonymous, with the refresh token; the sign-in it continues was recorded",
        "DELETE /api/v1/tickets/{ticket}": "the customer cancelling with their ticket's token, anonymously",
        "POST /api/v1/tickets/{ticket}/rating": "the customer rating with their ticket's token, anonymously",
        "POST /api/v1/drones/{drone}/telemetry": "a measurement a drone sends every second, not a change; the drone's state keeps it",
        "POST /api/v1/telegram/webhook": "Telegram's updates for the bot, not a change by staff or a key (404 on a server without a bot)",
    ]

    /// A browser's push subscription the server accepts: a fixed P-256 public key and auth secret, and a loopback endpoint
    /// that nothing answers (the alert is retried, never delivered).
    static let pushSubscription =
        #"{"endpoint":"http://127.0.0.1:9/push","keys":{"p256dh":"BO-IDI74FogXlsGI5XGwGsb3DFJidFba5IZ1jv_Zxj3dXNvBHiSIOhJZgkKpWHW5aohU9kv_msmjOBC4HxVPVOU","auth":"AAECAwQFBgcICQoLDA0ODw"}}"#

    struct Step {
        let method: HTTPMethod
        let route: String
        let path: String
        let body: String?
        var asKey = false
    }

    struct AuditPage: Decodable {
        struct Entry: Decodable {
            let action: String
            let target: String
            let actor: String
        }
        let items: [Entry]
    }

    /// The id of the oldest request in a webhook endpoint's log, waiting for the server to plan one.
    static func firstNotification(ofWebhook endpoint: Int64, _ admin: StaffClient) async throws -> Int64 {
        struct Log: Decodable {
            struct Item: Decodable { let id: Int64 }
            let items: [Item]
        }
        var found: Int64?
        try await eventually {
            found = try decodeJSON(Log.self, try await admin.call(.GET, "/api/v1/webhooks/\(endpoint)/notifications").body).items.last?.id
            return found != nil
        }
        return try #require(found)
    }

    static func auditRows(_ admin: StaffClient) async throws -> Int {
        let page = try await admin.call(.GET, "/api/v1/audit?limit=200")
        return try decodeJSON(AuditPage.self, page.body).items.count
    }

    @Test("every write operation of the API document, made by staff or a key, leaves an audit row", arguments: TestDatabase.available)
    func everyWriteIsAudited(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let key = try await admin.createAPIKey(scopes: ["tickets:issue", "sessions:write", "fleet:write"])
            let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-7_200))
            let (_, colleague) = try await admin.createUser("leaving", role: .operator)
            let steps: [Step] = [
                Step(method: .POST, route: "/api/v1/branches", path: "/api/v1/branches", body: #"{"name":"Audited"}"#),
                Step(method: .PATCH, route: "/api/v1/branches/{branch}", path: "/api/v1/branches/1", body: #"{"name":"Audited branch"}"#),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/services",
                    path: "/api/v1/branches/1/services",
                    body: #"{"name":"Accounts","prefix":"A"}"#
                ),
                Step(method: .POST, route: "/api/v1/branches/{branch}/services", path: "/api/v1/branches/1/services", body: #"{"name":"Loans","prefix":"B"}"#),
                Step(method: .PATCH, route: "/api/v1/services/{service}", path: "/api/v1/services/2", body: #"{"name":"Mortgages"}"#),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/queues",
                    path: "/api/v1/branches/1/queues",
                    body: #"{"name":"Desk","counter":"1","services":[1,2]}"#
                ),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/queues",
                    path: "/api/v1/branches/1/queues",
                    body: #"{"name":"Spare","counter":"2","services":[1]}"#
                ),
                Step(method: .PATCH, route: "/api/v1/queues/{queue}", path: "/api/v1/queues/2", body: #"{"name":"Spare desk"}"#),
                Step(method: .POST, route: "/api/v1/queues/{queue}/pause", path: "/api/v1/queues/2/pause", body: nil),
                Step(method: .POST, route: "/api/v1/queues/{queue}/open", path: "/api/v1/queues/2/open", body: nil),
                Step(method: .POST, route: "/api/v1/queues/{queue}/close", path: "/api/v1/queues/2/close", body: nil),
                Step(method: .DELETE, route: "/api/v1/queues/{queue}", path: "/api/v1/queues/2", body: nil),
                Step(
                    method: .PUT,
                    route: "/api/v1/branches/{branch}/alerts",
                    path: "/api/v1/branches/1/alerts",
                    body: #"{"near_ahead":2,"push":true,"telegram":false,"email":false,"texts":{"en":{"near":"Ticket {number}: nearly your turn"}}}"#
                ),
                // Hears the tickets' events from here on; nothing answers at the URL, so the notifications stay in its log.
                Step(
                    method: .POST,
                    route: "/api/v1/webhooks",
                    path: "/api/v1/webhooks",
                    body: #"{"url":"http://127.0.0.1:9/hook","event_types":["ticket.*"]}"#
                ),
                Step(method: .POST, route: "/api/v1/branches/{branch}/tickets", path: "/api/v1/branches/1/tickets", body: #"{"service":1}"#),
                // The customer of ticket 1 follows it by push (e-mail needs an SMTP server), then stops.
                Step(
                    method: .POST,
                    route: "/api/v1/tickets/{ticket}/followers",
                    path: "/api/v1/tickets/{token}/followers",
                    body: #"{"channel":"push","subscription":\#(Self.pushSubscription),"language":"en"}"#
                ),
                Step(method: .DELETE, route: "/api/v1/tickets/{ticket}/followers/{follower}", path: "/api/v1/tickets/{token}/followers/1", body: nil),
                Step(method: .POST, route: "/api/v1/tickets/{ticket}/transfer", path: "/api/v1/tickets/1/transfer", body: #"{"service":2}"#),
                Step(method: .POST, route: "/api/v1/queues/{queue}/call-next", path: "/api/v1/queues/1/call-next", body: nil),
                Step(method: .POST, route: "/api/v1/tickets/{ticket}/recall", path: "/api/v1/tickets/1/recall", body: nil),
                Step(method: .POST, route: "/api/v1/tickets/{ticket}/start", path: "/api/v1/tickets/1/start", body: nil),
                Step(method: .POST, route: "/api/v1/tickets/{ticket}/finish", path: "/api/v1/tickets/1/finish", body: nil),
                // The customer of ticket 1, with its link: `{token}` is filled in once it is issued.
                Step(method: .POST, route: "/api/v1/tickets/{ticket}/complaint", path: "/api/v1/tickets/{token}/complaint", body: #"{"text":"Rude"}"#),
                Step(method: .PATCH, route: "/api/v1/complaints/{complaint}", path: "/api/v1/complaints/1", body: #"{"state":"resolved","reply":"Sorry"}"#),
                Step(method: .PATCH, route: "/api/v1/webhooks/{webhook}", path: "/api/v1/webhooks/1", body: #"{"description":"The CRM","enabled":true}"#),
                Step(method: .POST, route: "/api/v1/webhooks/{webhook}/secret", path: "/api/v1/webhooks/1/secret", body: nil),
                // `{notification}`: the first request in the endpoint's log, once the server has planned it.
                Step(
                    method: .POST,
                    route: "/api/v1/webhooks/{webhook}/notifications/{notification}/resend",
                    path: "/api/v1/webhooks/1/notifications/{notification}/resend",
                    body: nil
                ),
                Step(method: .DELETE, route: "/api/v1/webhooks/{webhook}", path: "/api/v1/webhooks/1", body: nil),
                Step(method: .POST, route: "/api/v1/branches/{branch}/tickets", path: "/api/v1/branches/1/tickets", body: #"{"service":1}"#, asKey: true),
                Step(method: .POST, route: "/api/v1/queues/{queue}/call-next", path: "/api/v1/queues/1/call-next", body: nil),
                Step(method: .POST, route: "/api/v1/tickets/{ticket}/no-show", path: "/api/v1/tickets/2/no-show", body: nil),
                Step(method: .DELETE, route: "/api/v1/services/{service}", path: "/api/v1/services/2", body: nil),
                Step(
                    method: .POST,
                    route: "/api/v1/users",
                    path: "/api/v1/users",
                    body: #"{"username":"newcomer","password":"a long password","role":"operator","branch_ids":[1]}"#
                ),
                // Plans: the admin works counter 1 daily from 2030; the newcomer (user 3, of branch 1) covers one day.
                Step(
                    method: .PUT,
                    route: "/api/v1/branches/{branch}/hours",
                    path: "/api/v1/branches/1/hours",
                    body:
                        #"{"opening_hours":{"week":{"mon":[{"from":"00:00","to":"24:00"}],"tue":[{"from":"00:00","to":"24:00"}],"wed":[{"from":"00:00","to":"24:00"}],"thu":[{"from":"00:00","to":"24:00"}],"fri":[{"from":"00:00","to":"24:00"}],"sat":[{"from":"00:00","to":"24:00"}],"sun":[{"from":"00:00","to":"24:00"}]}},"counters_follow_shifts":false}"#
                ),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/shift-templates",
                    path: "/api/v1/branches/1/shift-templates",
                    body: #"{"name":"Day","from":"08:00","to":"16:00","weekdays":["mon","tue","wed","thu","fri"]}"#
                ),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/shift-assignments",
                    path: "/api/v1/branches/1/shift-assignments",
                    body: #"{"template_id":1,"user_id":1,"queue_id":1,"first_date":"2030-01-07"}"#
                ),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/absences",
                    path: "/api/v1/branches/1/absences",
                    body: #"{"user_id":1,"first_date":"2030-02-01","last_date":"2030-02-02","reason":"Training"}"#
                ),
                Step(
                    method: .POST,
                    route: "/api/v1/branches/{branch}/shift-swaps",
                    path: "/api/v1/branches/1/shift-swaps",
                    body: #"{"assignment_id":1,"date":"2030-01-08","substitute_id":3}"#
                ),
                Step(method: .DELETE, route: "/api/v1/shift-swaps/{swap}", path: "/api/v1/shift-swaps/1", body: nil),
                Step(method: .DELETE, route: "/api/v1/absences/{absence}", path: "/api/v1/absences/1", body: nil),
                Step(method: .DELETE, route: "/api/v1/shift-assignments/{assignment}", path: "/api/v1/shift-assignments/1", body: nil),
                Step(method: .DELETE, route: "/api/v1/shift-templates/{template}", path: "/api/v1/shift-templates/1", body: nil),
                Step(method: .PATCH, route: "/api/v1/users/{user}", path: "/api/v1/users/3", body: #"{"role":"reception"}"#),
                Step(method: .DELETE, route: "/api/v1/users/{user}", path: "/api/v1/users/3", body: nil),
                Step(method: .POST, route: "/api/v1/api-keys", path: "/api/v1/api-keys", body: #"{"name":"spare","scopes":["tickets:issue"]}"#),
                Step(method: .DELETE, route: "/api/v1/api-keys/{key}", path: "/api/v1/api-keys/2", body: nil),
                Step(method: .PUT, route: "/api/v1/retention", path: "/api/v1/retention", body: #"{"days":365}"#),
                Step(method: .DELETE, route: "/api/v1/retention", path: "/api/v1/retention", body: nil),
                Step(
                    method: .POST,
                    route: "/api/v1/sessions",
                    path: "/api/v1/sessions",
                    body: #"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":1800}"#,
                    asKey: true
                ),
                Step(
                    method: .POST,
                    route: "/api/v1/sessions/batch",
                    path: "/api/v1/sessions/batch",
                    body: #"{"sessions":[{"user_id":"u1","sport":"ride","started_at":"\#(start)","duration_s":3600}]}"#,
                    asKey: true
                ),
                Step(method: .PATCH, route: "/api/v1/sessions/{session}", path: "/api/v1/sessions/1", body: #"{"duration_s":1900}"#),
                Step(method: .DELETE, route: "/api/v1/sessions/{session}", path: "/api/v1/sessions/1", body: nil),
                Step(method: .POST, route: "/api/v1/drones", path: "/api/v1/drones", body: #"{"id":"d-1","type":"medium","position":{"x":1000,"y":1000}}"#),
                Step(method: .PATCH, route: "/api/v1/drones/{drone}", path: "/api/v1/drones/d-1", body: #"{"state":"offline"}"#),
                Step(
                    method: .POST,
                    route: "/api/v1/deliveries",
                    path: "/api/v1/deliveries",
                    body: #"{"origin":{"x":1000,"y":1000},"destination":{"x":2000,"y":2000},"weight_kg":1}"#,
                    asKey: true
                ),
            ]
            // The delivery's id is known once it is posted; logging out comes last, as the colleague.
            let document = try JSONSerialization.jsonObject(with: Data(try await server.request(.GET, "/openapi.json").body.utf8)) as? [String: Any]
            let paths = try #require(document?["paths"] as? [String: [String: Any]])
            let documented = Set(
                paths.flatMap { path, operations in
                    operations.keys.filter { ["post", "patch", "put", "delete"].contains($0) }.map { "\($0.uppercased()) \(path)" }
                }
            )
            let walked = Set(steps.map { "\($0.method.rawValue) \($0.route)" } + ["POST /api/v1/deliveries/{delivery}/cancel", "POST /api/v1/auth/logout"])
            #expect(documented == walked.union(Self.exempt.keys), "not walked: \(documented.subtracting(walked).subtracting(Self.exempt.keys).sorted())")

            let auditCount = { try await Self.auditRows(admin) }
            var deliveryID = ""
            var ticketToken = ""
            for step in steps + [Step(method: .POST, route: "/api/v1/deliveries/{delivery}/cancel", path: "", body: nil)] {
                let before = try await auditCount()
                var path = step.path.isEmpty ? "/api/v1/deliveries/\(deliveryID)/cancel" : step.path.replacingOccurrences(of: "{token}", with: ticketToken)
                if path.contains("{notification}") {
                    path = path.replacingOccurrences(of: "{notification}", with: String(try await Self.firstNotification(ofWebhook: 1, admin)))
                }
                var headers: [(String, String)] = step.body == nil ? [] : [("Content-Type", "application/json")]
                headers.append(("Authorization", "Bearer \(step.asKey ? key : admin.accessToken)"))
                let response = try await server.request(step.method, path, body: step.body, headers: headers)
                #expect((200..<300).contains(response.status), "\(step.method) \(path): \(response.status) \(response.body)")
                if step.route == "/api/v1/branches/{branch}/tickets", ticketToken.isEmpty {
                    ticketToken = (try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])?["token"] as? String ?? ""
                }
                if step.route == "/api/v1/deliveries" {
                    deliveryID = (try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])?["id"] as? String ?? ""
                }
                #expect(try await auditCount() > before, "\(step.method) \(path) left no audit row")
            }
            let before = try await auditCount()
            #expect(try await colleague.call(.POST, "/api/v1/auth/logout").status == 204)
            #expect(try await auditCount() > before, "logging out left no audit row")
            // The generic entries name the route and who made the change.
            let trail = try decodeJSON(AuditPage.self, try await admin.call(.GET, "/api/v1/audit?limit=200").body).items
            #expect(
                trail.contains {
                    $0.action == "POST /api/v1/queues/{queue}/call-next" && $0.target == "/api/v1/queues/1/call-next" && $0.actor.hasPrefix("user:1")
                }
            )
            #expect(trail.contains { $0.action == "POST /api/v1/sessions" && $0.actor.hasPrefix("api_key:") })
        }
    }
}
