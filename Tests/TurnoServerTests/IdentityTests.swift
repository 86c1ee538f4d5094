import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SQLKit
import Testing
import TurnoServer

@testable import TurnoCore

@Suite("Identity: roles, tokens, lockout, API keys, CSRF, tenants, rate limits, audit")
struct IdentityTests {
    /// One representative route per route group, with a body when it needs one.
    static let representative: [RouteGroup: (HTTPMethod, String, String?)] = [
        .account: (.GET, "/api/v1/me", nil),
        .users: (.GET, "/api/v1/users", nil),
        .apiKeys: (.GET, "/api/v1/api-keys", nil),
        .audit: (.GET, "/api/v1/audit", nil),
        .webhooks: (.GET, "/api/v1/webhooks", nil),
        .branchSetup: (.GET, "/api/v1/branches/1/queues", nil),
        .queueOperation: (.POST, "/api/v1/queues/1/call-next", nil),
        .ticketDesk: (.GET, "/api/v1/queues/1/tickets", nil),
        .dashboard: (.GET, "/api/v1/branches/1/dashboard", nil),
        .reports: (.GET, "/api/v1/reports", nil),
        .ownFigures: (.GET, "/api/v1/me/report", nil),
        .complaints: (.GET, "/api/v1/complaints", nil),
        .retention: (.GET, "/api/v1/retention", nil),
        .schedule: (.GET, "/api/v1/branches/1/schedule", nil),
        .ownShifts: (.GET, "/api/v1/me/shifts", nil),
        .sessionsWrite: (.POST, "/api/v1/sessions/batch", #"{"sessions":[]}"#),
        .sessionsRead: (.GET, "/api/v1/sessions/users", nil),
        .fleetRead: (.GET, "/api/v1/fleet/stats", nil),
        .fleetDeliveries: (.POST, "/api/v1/deliveries", #"{"origin":{"x":10,"y":10},"destination":{"x":900,"y":900},"weight_kg":1}"#),
        .fleetDrones: (.POST, "/api/v1/drones", #"{"type":"light"}"#),
    ]

    /// A key as `POST /api/v1/api-keys` answers it: the only time the key itself is shown.
    struct CreatedKey: Decodable {
        let id: Int64
        let key: String
        let prefix: String
    }

    /// `GET /api/v1/api-keys`.
    struct ListedKeys: Decodable {
        struct Key: Decodable {
            let id: Int64
            let name: String
            let prefix: String
            let last_used_at: String?
            let revoked_at: String?
        }
        let items: [Key]
    }

    /// A staff user as `/api/v1/users` answers.
    struct User: Decodable {
        let id: Int64
        let username: String
        let role: String
    }

    struct Users: Decodable {
        let items: [User]
    }

    @Test("the whole access matrix: every route group × every role, an API key and no credentials")
    func accessMatrix() async throws {
        #expect(Set(Self.representative.keys) == Set(turnoRouteGroups), "every route group needs a representative route here")
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            // Branch 1 with one open queue (1), which nobody in particular is assigned to.
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centre"}"#).status == 201)
            #expect(try await admin.call(.POST, "/api/v1/branches/1/services", json: #"{"name":"Post","prefix":"A"}"#).status == 201)
            #expect(try await admin.call(.POST, "/api/v1/branches/1/queues", json: #"{"name":"Desk","counter":"1","services":[1]}"#).status == 201)
            var clients: [Role: StaffClient] = [.admin: admin]
            for role in [Role.manager, .reception, .operator] {
                clients[role] = try await admin.createUser("staff-\(role.rawValue)", role: role, branches: [1]).client
            }
            let key = try decodeJSON(
                CreatedKey.self,
                try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"kiosk","scopes":["tickets:issue"]}"#).body
            )
            for group in turnoRouteGroups {
                let (method, path, body) = Self.representative[group]!
                let json = body.map { _ in [("Content-Type", "application/json")] } ?? []
                for role in Role.allCases {
                    let status = try await clients[role]!.call(method, path, json: body).status
                    if group.roles.contains(role) {
                        #expect((200...299).contains(status), "\(role.rawValue) on \(group.name): \(status)")
                    } else {
                        #expect(status == 403, "\(role.rawValue) on \(group.name)")
                    }
                }
                let anonymous = try await server.request(method, path, body: body, headers: json)
                #expect(anonymous.status == 401, "no credentials on \(group.name)")
                #expect(anonymous.headers["WWW-Authenticate"].first == "Bearer")
                let withKey = try await server.request(method, path, body: body, headers: json + [("Authorization", "Bearer \(key.key)")])
                #expect(group.scopes.contains(.ticketsIssue) ? (200...299).contains(withKey.status) : withKey.status == 403, "API key on \(group.name)")
                let badToken = try await server.request(method, path, body: body, headers: json + [("Authorization", "Bearer not-a-token")])
                #expect(badToken.status == 401)
            }
        }
    }

    @Test("docs/access.md is the access matrix the code enforces")
    func accessMatrixDocument() throws {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/access.md")
        #expect(
            try String(contentsOf: document, encoding: .utf8) == AccessPolicy.markdown(turnoRouteGroups),
            "run `swift run turno access-matrix > docs/access.md`"
        )
    }

    @Test("an unknown user and a wrong password get the same answer")
    func sameFailure() async throws {
        try await withTestServer { server in
            let json = [("Content-Type", "application/json")]
            let unknown = try await server.request(.POST, "/api/v1/auth/login", body: #"{"username":"nobody","password":"whatever-it-is"}"#, headers: json)
            let wrong = try await server.request(.POST, "/api/v1/auth/login", body: #"{"username":"admin","password":"whatever-it-is"}"#, headers: json)
            #expect(unknown.status == 401)
            #expect(wrong.status == 401)
            #expect(unknown.body == wrong.body)
            #expect(unknown.headers["Content-Type"] == wrong.headers["Content-Type"])
        }
    }

    @Test(
        "ten failed sign-ins lock the username, even for the right password, until the cool-down ends; failures are audited",
        arguments: TestDatabase.available
    )
    func lockout(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let json = [("Content-Type", "application/json")]
            for _ in 0..<10 {
                let response = try await server.request(
                    .POST,
                    "/api/v1/auth/login",
                    body: #"{"username":"admin","password":"wrong-password!"}"#,
                    headers: json
                )
                #expect(response.status == 401)
            }
            let locked = try await server.request(
                .POST,
                "/api/v1/auth/login",
                body: #"{"username":"admin","password":"\#(TestServer.adminPassword)"}"#,
                headers: json
            )
            #expect(locked.status == 429)
            let retryAfter = Int(locked.headers["Retry-After"].first ?? "") ?? 0
            #expect((1...900).contains(retryAfter))
            // Let the cool-down pass: move the failures 15 minutes into the past.
            try await server.storage.write { transaction in
                try await transaction.sql.raw("UPDATE login_failures SET at_ms = at_ms - 900001").run()
            }
            let admin = try await StaffClient.admin(server)
            let audit = try await admin.audit("action=auth.login_failed")
            #expect(audit.count == 10 && audit.allSatisfy { $0.action == "auth.login_failed" })
        }
    }

    @Test("access tokens expire when the server's clock passes their lifetime, not before")
    func expiry() async throws {
        var settings = TestServer.identity
        settings.accessTokenSeconds = 60
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        try await withTestServer(identity: settings, clock: clock) { server in
            let admin = try await StaffClient.admin(server)
            #expect(try await admin.call(.GET, "/api/v1/me").status == 200)
            clock.advance(by: .seconds(59))
            #expect(try await admin.call(.GET, "/api/v1/me").status == 200)
            clock.advance(by: .seconds(2))
            let expired = try await admin.call(.GET, "/api/v1/me")
            #expect(expired.status == 401)
            #expect(expired.body.contains("expired"))
        }
    }

    @Test("refresh tokens rotate; reusing one revokes its whole sign-in", arguments: TestDatabase.available)
    func refreshRotation(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let json = [("Content-Type", "application/json")]
            let first = try await StaffClient.admin(server)
            let refreshed = try await server.request(.POST, "/api/v1/auth/refresh", body: #"{"refresh_token":"\#(first.refreshToken)"}"#, headers: json)
            #expect(refreshed.status == 200)
            let second = try decodeJSON(StaffClient.Tokens.self, refreshed.body)
            #expect(second.refresh_token != first.refreshToken)
            let secondClient = StaffClient(server: server, accessToken: second.access_token, refreshToken: second.refresh_token)
            #expect(try await secondClient.call(.GET, "/api/v1/me").status == 200)
            // The old token again: refused, and the whole family is revoked.
            let reused = try await server.request(.POST, "/api/v1/auth/refresh", body: #"{"refresh_token":"\#(first.refreshToken)"}"#, headers: json)
            #expect(reused.status == 401)
            let afterReuse = try await server.request(.POST, "/api/v1/auth/refresh", body: #"{"refresh_token":"\#(second.refresh_token)"}"#, headers: json)
            #expect(afterReuse.status == 401)
            #expect(try await secondClient.call(.GET, "/api/v1/me").status == 401)
            // Another sign-in of the same user is unaffected.
            let other = try await StaffClient.admin(server)
            #expect(try await other.call(.GET, "/api/v1/me").status == 200)
            #expect(try await other.audit("action=auth.refresh_reused").contains { $0.action == "auth.refresh_reused" })
        }
    }

    @Test("logout revokes the access and refresh tokens of that sign-in")
    func logout() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            #expect(try await admin.call(.POST, "/api/v1/auth/logout").status == 204)
            #expect(try await admin.call(.GET, "/api/v1/me").status == 401)
            let refresh = try await server.request(
                .POST,
                "/api/v1/auth/refresh",
                body: #"{"refresh_token":"\#(admin.refreshToken)"}"#,
                headers: [("Content-Type", "application/json")]
            )
            #expect(refresh.status == 401)
        }
    }

    @Test("changing a user's password or role revokes their tokens; the directory follows on another node", arguments: TestDatabase.available)
    func changesRevoke(database: TestDatabase) async throws {
        let location = try await database.makeLocation()
        try await withTestServer(at: location) { server in
            let admin = try await StaffClient.admin(server)
            let (id, operatorClient) = try await admin.createUser("olga", role: .operator, branches: [1])
            #expect(try await operatorClient.call(.GET, "/api/v1/me").status == 200)
            let changed = try await admin.call(.PATCH, "/api/v1/users/\(id)", json: #"{"password":"a-brand-new-password"}"#)
            #expect(changed.status == 200)
            #expect(try await operatorClient.call(.GET, "/api/v1/me").status == 401)
            let refresh = try await server.request(
                .POST,
                "/api/v1/auth/refresh",
                body: #"{"refresh_token":"\#(operatorClient.refreshToken)"}"#,
                headers: [("Content-Type", "application/json")]
            )
            #expect(refresh.status == 401)

            let again = try await StaffClient.login(server, "olga", "a-brand-new-password")
            #expect(try await again.call(.GET, "/api/v1/me").status == 200)
            #expect(try await admin.call(.PATCH, "/api/v1/users/\(id)", json: #"{"role":"reception"}"#).status == 200)
            #expect(try await again.call(.GET, "/api/v1/me").status == 401)

            guard database == .postgres else { return }
            // A second node learns of changes through the event feed.
            try await withTestServer(at: location) { nodeB in
                let onB = try await StaffClient.login(nodeB, "olga", "a-brand-new-password")
                let viaB = StaffClient(server: nodeB, accessToken: onB.accessToken, refreshToken: onB.refreshToken)
                #expect(try await viaB.call(.GET, "/api/v1/me").status == 200)
                #expect(try await admin.call(.PATCH, "/api/v1/users/\(id)", json: #"{"role":"operator"}"#).status == 200)
                try await eventually { try await viaB.call(.GET, "/api/v1/me").status == 401 }
            }
        }
    }

    @Test("managers manage only reception and operators of their own branches; the last admin stays")
    func managerScope() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            let (managerID, manager) = try await admin.createUser("maria", role: .manager, branches: [1, 2])
            let (otherID, _) = try await admin.createUser("oscar", role: .operator, branches: [3])
            #expect(
                try await manager.call(.POST, "/api/v1/users", json: #"{"username":"rita","password":"long-enough-pw","role":"reception","branch_ids":[2]}"#)
                    .status == 201
            )
            #expect(
                try await manager.call(.POST, "/api/v1/users", json: #"{"username":"rick","password":"long-enough-pw","role":"operator","branch_ids":[3]}"#)
                    .status == 403
            )
            #expect(
                try await manager.call(.POST, "/api/v1/users", json: #"{"username":"ada","password":"long-enough-pw","role":"admin","branch_ids":[1]}"#)
                    .status == 403
            )
            #expect(try await manager.call(.GET, "/api/v1/users/\(otherID)").status == 404)
            let listed = try decodeJSON(Users.self, try await manager.call(.GET, "/api/v1/users").body).items
            #expect(listed.contains { $0.username == "rita" } && !listed.contains { $0.username == "oscar" })
            #expect(!listed.contains { $0.username == "admin" || $0.role == "admin" })
            #expect(try await manager.call(.GET, "/api/v1/users/\(managerID)").status == 200)
            // The only administrator cannot be demoted or removed.
            let me = try decodeJSON(MeBody.self, try await admin.call(.GET, "/api/v1/me").body)
            #expect(try await admin.call(.PATCH, "/api/v1/users/\(me.user_id!)", json: #"{"role":"manager"}"#).status == 409)
            #expect(try await admin.call(.DELETE, "/api/v1/users/\(me.user_id!)").status == 409)
        }
    }

    struct MeBody: Decodable {
        let kind: String
        let organization_id: Int64
        let user_id: Int64?
        let csrf_token: String?
    }

    @Test("API keys are shown once, stored hashed, scoped, revocable, and record their last use")
    func apiKeys() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            #expect(try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"x","scopes":["tickets:steal"]}"#).status == 422)
            let created = try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"Kiosk 1","scopes":["tickets:issue","sessions:write"]}"#)
            #expect(created.status == 201)
            let key = try decodeJSON(CreatedKey.self, created.body)
            #expect(key.key.hasPrefix(key.prefix))
            let listed = try await admin.call(.GET, "/api/v1/api-keys")
            let listedKeys = try decodeJSON(ListedKeys.self, listed.body).items
            #expect(listedKeys.map(\.name) == ["Kiosk 1"] && listedKeys.first?.id == key.id && listedKeys.first?.last_used_at == nil)
            // The key itself is nowhere in the list.
            #expect(!listed.body.contains(key.key))
            let stored = try await server.storage.read { sql in
                try await sql.raw("SELECT key_hash FROM api_keys").all().map { try $0.decode(column: "key_hash", as: String.self) }
            }
            #expect(stored.count == 1 && !stored[0].contains(key.key))
            // Used: it authenticates (and is refused where staff only may go), and its last use is recorded.
            #expect(try await server.request(.GET, "/api/v1/users", headers: [("Authorization", "Bearer \(key.key)")]).status == 403)
            let used = try decodeJSON(ListedKeys.self, try await admin.call(.GET, "/api/v1/api-keys").body).items
            #expect(used.first { $0.id == key.id }?.last_used_at != nil)
            #expect(try await admin.call(.DELETE, "/api/v1/api-keys/\(key.id)").status == 204)
            #expect(try await server.request(.GET, "/api/v1/users", headers: [("Authorization", "Bearer \(key.key)")]).status == 401)
            let actions = try await admin.audit().map(\.action)
            #expect(actions.contains("api_key.created") && actions.contains("api_key.revoked"))
        }
    }

    @Test("pages sign in with a form and a Secure, HttpOnly, SameSite=Strict cookie; changes need the CSRF token")
    func pageSessionAndCSRF() async throws {
        try await withTestServer { server in
            let form = try await server.request(.GET, "/login?next=/console")
            #expect(form.status == 200)
            let loginCookie = try #require(form.headers["Set-Cookie"].first { $0.hasPrefix("turno_login_csrf=") })
            let loginToken = String(loginCookie.dropFirst("turno_login_csrf=".count).prefix { $0 != ";" })
            #expect(form.body.contains(loginToken))
            let formHeaders = [("Content-Type", "application/x-www-form-urlencoded")]
            // Without the form's CSRF cookie the sign-in is refused.
            let forged = try await server.request(
                .POST,
                "/login",
                body: "username=admin&password=\(TestServer.adminPassword.replacingOccurrences(of: " ", with: "+"))&csrf_token=\(loginToken)",
                headers: formHeaders
            )
            #expect(forged.status == 403)
            let signedIn = try await server.request(
                .POST,
                "/login",
                body: "username=admin&password=\(TestServer.adminPassword.replacingOccurrences(of: " ", with: "+"))&csrf_token=\(loginToken)&next=%2Fconsole",
                headers: formHeaders + [("Cookie", "turno_login_csrf=\(loginToken)")]
            )
            #expect(signedIn.status == 303)
            #expect(signedIn.headers["Location"].first == "/console")
            let session = try #require(signedIn.headers["Set-Cookie"].first { $0.hasPrefix("turno_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Secure"))
            let cookie = String(session.prefix { $0 != ";" })

            let me = try decodeJSON(MeBody.self, try await server.request(.GET, "/api/v1/me", headers: [("Cookie", cookie)]).body)
            let csrf = try #require(me.csrf_token)
            let body = #"{"username":"carla","password":"long-enough-pw","role":"operator","branch_ids":[1]}"#
            let json = ("Content-Type", "application/json")
            let without = try await server.request(.POST, "/api/v1/users", body: body, headers: [("Cookie", cookie), json])
            #expect(without.status == 403)
            #expect(without.body.contains("CSRF"))
            let wrong = try await server.request(.POST, "/api/v1/users", body: body, headers: [("Cookie", cookie), json, ("X-CSRF-Token", "nope")])
            #expect(wrong.status == 403)
            let with = try await server.request(.POST, "/api/v1/users", body: body, headers: [("Cookie", cookie), json, ("X-CSRF-Token", csrf)])
            #expect(with.status == 201)
            // Signing out from a page form needs the token too, as a field.
            let formLogout = try await server.request(.POST, "/logout", body: "csrf_token=nope", headers: [("Cookie", cookie)] + formHeaders)
            #expect(formLogout.status == 403)
            let logout = try await server.request(.POST, "/logout", body: "csrf_token=\(csrf)", headers: [("Cookie", cookie)] + formHeaders)
            #expect(logout.status == 303)
            #expect(try await server.request(.GET, "/api/v1/me", headers: [("Cookie", cookie)]).status == 401)
        }
    }

    @Test("tokens of one organization cannot read or change anything of another", arguments: TestDatabase.available)
    func tenantIsolation(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let adminA = try await StaffClient.admin(server)
            let (organizationB, _) = try await server.platform.identity.createOrganization(
                name: "B",
                adminUsername: "admin-b",
                adminPassword: "admin-b-password"
            )
            #expect(organizationB != 1)
            let adminB = try await StaffClient.login(server, "admin-b", "admin-b-password")
            let (userB, _) = try await adminB.createUser("bob", role: .operator, branches: [9])
            let keyB = try decodeJSON(
                CreatedKey.self,
                try await adminB.call(.POST, "/api/v1/api-keys", json: #"{"name":"b-kiosk","scopes":["tickets:issue"]}"#).body
            )

            #expect(try await adminA.call(.GET, "/api/v1/users/\(userB)").status == 404)
            #expect(try await adminA.call(.PATCH, "/api/v1/users/\(userB)", json: #"{"role":"admin"}"#).status == 404)
            #expect(try await adminA.call(.DELETE, "/api/v1/users/\(userB)").status == 404)
            #expect(try await adminA.call(.DELETE, "/api/v1/api-keys/\(keyB.id)").status == 404)
            // A's lists are A's alone; B's names appear nowhere in them, in any field.
            let users = try await adminA.call(.GET, "/api/v1/users")
            #expect(try decodeJSON(Users.self, users.body).items.map(\.username) == ["admin"])
            #expect(!users.body.contains("bob") && !users.body.contains("admin-b"))
            let keys = try await adminA.call(.GET, "/api/v1/api-keys")
            #expect(try decodeJSON(ListedKeys.self, keys.body).items.isEmpty && !keys.body.contains("b-kiosk"))
            let audit = try await adminA.call(.GET, "/api/v1/audit")
            #expect(!(try decodeJSON(AuditPage.self, audit.body).items.isEmpty))
            #expect(!audit.body.contains("bob") && !audit.body.contains("b-kiosk"))
            #expect(!(try await adminA.call(.GET, "/api/v1/audit.csv")).body.contains("bob"))
            // B's user is untouched and B still sees it.
            let seenByB = try await adminB.call(.GET, "/api/v1/users/\(userB)")
            #expect(seenByB.status == 200)
            let bob = try decodeJSON(User.self, seenByB.body)
            #expect(bob.username == "bob" && bob.role == "operator")
        }
    }

    @Test("rate limits answer 429 with Retry-After")
    func rateLimit() async throws {
        try await withTestServer(rateLimits: RateLimits(api: .init(5, per: .seconds(60)), exports: .init(1, per: .seconds(3_600)))) { server in
            var statuses: [Int] = []
            for _ in 0..<6 { statuses.append(try await server.request(.GET, "/api/v1/me").status) }
            #expect(statuses == [401, 401, 401, 401, 401, 429])
            let limited = try await server.request(.GET, "/api/v1/me")
            #expect(limited.status == 429)
            #expect(Int(limited.headers["Retry-After"].first ?? "") ?? 0 >= 1)
            // Pages and health checks are not API routes.
            #expect(try await server.request(.GET, "/healthz").status == 200)
        }
    }

    @Test("the audit trail filters, pages and exports CSV")
    func audit() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            for index in 0..<3 { _ = try await admin.createUser("user\(index)", role: .operator, branches: [1]) }
            let first = try decodeJSON(AuditPage.self, try await admin.call(.GET, "/api/v1/audit?action=user.created&limit=2").body)
            #expect(first.items.count == 2 && first.items.allSatisfy { $0.action == "user.created" && $0.actor.hasPrefix("user:") })
            let cursor = try #require(first.next_cursor)
            let second = try decodeJSON(AuditPage.self, try await admin.call(.GET, "/api/v1/audit?action=user.created&limit=2&cursor=\(cursor)").body)
            #expect(second.items.count == 1)
            #expect(Set(first.items.map(\.id) + second.items.map(\.id)).count == 3)
            let csv = try await admin.call(.GET, "/api/v1/audit", headers: [("Accept", "text/csv")])
            #expect(csv.headers["Content-Type"].first?.hasPrefix("text/csv") == true)
            let lines = csv.body.split(separator: "\r\n")
            #expect(lines.first == "id,at,actor,action,target,detail,address")
            #expect(lines.filter { $0.contains("user.created") }.count == 3)
            #expect(try await admin.call(.GET, "/api/v1/audit?from=yesterday").status == 400)
        }
    }
}

@Suite("Live topics and identity")
struct LiveTopicAccessTests {
    @Test("an organization's topic is open to its administrators only")
    func organizationTopic() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            let (_, operatorClient) = try await admin.createUser("otto", role: .operator, branches: [1])
            #expect(try await server.request(.GET, "/live/poll?topics=organization:1").status == 401)
            #expect(try await operatorClient.call(.GET, "/live/poll?topics=organization:1").status == 403)
            #expect(try await admin.call(.GET, "/live/poll?topics=organization:2").status == 403)
            let allowed = try await admin.call(.GET, "/live/poll?topics=organization:1&since=0")
            #expect(allowed.status == 200)
            #expect(try decodeJSON(LivePoll.self, allowed.body).messages.contains { $0.type == "user.changed" && $0.topic == "organization:1" })
            #expect(try await server.request(.GET, "/live/poll?topics=branch:1").status == 200)
        }
    }
}
