import Foundation
import SQLKit
import Testing
import TurnoCore

/// What anonymous callers may do: choose only the classes a branch allows, never the channel, reach branches
/// only through their public id, and draw on limits that cannot be dodged or shared by accident.
@Suite("Public access")
struct PublicAccessTests {
    /// A branch as staff read and change it.
    struct BranchView: Decodable {
        let id: Int64
        let public_id: String
        let language: String
        let self_service_classes: [String]
    }

    struct CreatedKey: Decodable { let key: String }

    /// What a ticket's holder reads about it.
    struct TicketStatus: Decodable {
        let number: String
        let branch_public_id: String
    }

    static func channels(_ server: TestServer) async throws -> [String] {
        try await server.storage.read { sql in
            try await sql.raw("SELECT channel FROM tickets ORDER BY id").all().map { try $0.decode(column: "channel", as: String.self) }
        }
    }

    @Test("customers choose only the branch's self-service classes; the server decides the channel")
    func classesAndChannel() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            let branch = try await server.publicID(ofBranch: 1)
            func issue(_ body: String, bearer: String? = nil) async throws -> (status: Int, body: String) {
                var headers = [("Content-Type", "application/json")]
                if let bearer { headers.append(("Authorization", "Bearer \(bearer)")) }
                let response = try await server.request(.POST, "/api/v1/branches/\(branch)/tickets", body: body, headers: headers)
                return (response.status, response.body)
            }
            // By default customers are regular: vip, senior and priority are given by staff.
            let vip = try await issue(#"{"service":1,"class":"vip"}"#)
            #expect(vip.status == 403 && vip.body.contains("cannot choose the class vip"))
            #expect(try await issue(#"{"service":1,"class":"senior"}"#).status == 403)
            #expect(try await issue(#"{"service":1}"#).status == 201)
            // The branch lets customers say they are senior or need priority; vip stays with staff.
            let changed = try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"self_service_classes":["regular","senior","priority"]}"#)
            #expect(changed.status == 200)
            #expect(try decodeJSON(BranchView.self, changed.body).self_service_classes == ["regular", "senior", "priority"])
            #expect(try await issue(#"{"service":1,"class":"senior"}"#).status == 201)
            #expect(try await issue(#"{"service":1,"class":"vip"}"#).status == 403)
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"self_service_classes":["vip"]}"#).status == 422)
            // Staff, and keys with tickets:classes, give any class; a kiosk key only the self-service ones.
            #expect(try await issue(#"{"service":1,"class":"vip"}"#, bearer: admin.accessToken).status == 201)
            let kiosk = try decodeJSON(
                CreatedKey.self,
                try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"kiosk","scopes":["tickets:issue"]}"#).body
            )
            let reception = try decodeJSON(
                CreatedKey.self,
                try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"desk app","scopes":["tickets:issue","tickets:classes"]}"#).body
            )
            #expect(try await issue(#"{"service":1,"class":"vip"}"#, bearer: kiosk.key).status == 403)
            #expect(try await issue(#"{"service":1,"class":"vip"}"#, bearer: reception.key).status == 201)
            // The channel comes from who calls, and a body that names one is refused.
            let claimed = try await issue(#"{"service":1,"channel":"staff"}"#)
            #expect(claimed.status == 422 && claimed.body.contains("channel"))
            #expect(try await Self.channels(server) == ["online", "online", "staff", "kiosk"])
        }
    }

    @Test("public URLs and live topics need the branch's public id; sequential ids find nothing", arguments: TestDatabase.available)
    func noEnumeration(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            let publicID = try await server.publicID(ofBranch: 1)
            #expect(publicID.count >= 16 && Int(publicID) == nil)
            let created = try decodeJSON(BranchView.self, try await admin.call(.GET, "/api/v1/branches/1").body)
            #expect(created.id == 1 && created.public_id == publicID)
            for path in ["/api/v1/branches/1/snapshot", "/b/1/display", "/b/1/kiosk"] {
                #expect(try await server.request(.GET, path).status == 404, "\(path)")
            }
            let anonymousIssue = try await server.request(
                .POST,
                "/api/v1/branches/1/tickets",
                body: #"{"service":1}"#,
                headers: [("Content-Type", "application/json")]
            )
            #expect(anonymousIssue.status == 404)
            #expect(try await server.request(.GET, "/api/v1/branches/\(publicID)/snapshot").status == 200)
            #expect(try await server.request(.GET, "/b/\(publicID)/display").status == 200)
            // Staff may still use the numeric id in their own organization.
            #expect(try await admin.call(.GET, "/api/v1/branches/1/snapshot").status == 200)
            // A counter's line is for its organization's staff; the branch's public topic is for anyone who knows its id.
            #expect(try await server.request(.GET, "/live/poll?topics=queue:1:1").status == 401)
            #expect(try await admin.call(.GET, "/live/poll?topics=queue:1:1").status == 200)
            let (_, _) = try await server.platform.identity.createOrganization(name: "Other", adminUsername: "other-admin", adminPassword: "other-password")
            let other = try await StaffClient.login(server, "other-admin", "other-password")
            #expect(try await other.call(.GET, "/live/poll?topics=queue:1:1").status == 403, "sequential queue ids do not open another tenant's counters")
            #expect(try await other.call(.GET, "/live/poll?topics=queue:2:1").status == 200)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let status = try decodeJSON(TicketStatus.self, try await server.request(.GET, "/api/v1/tickets/\(ticket.token)").body)
            #expect(status.branch_public_id == publicID)
        }
    }

    @Test("/metrics answers this machine by default, and anyone with the token when one is set")
    func metricsAccess() async throws {
        let trustLoopback: (inout ServerSettings) -> Void = { $0.trustedProxies = try! AddressRanges(parsing: "127.0.0.1") }
        try await withTestServer(settings: trustLoopback) { server in
            #expect(try await server.request(.GET, "/metrics").status == 200)
            let remote = try await server.request(.GET, "/metrics", headers: [("X-Forwarded-For", "203.0.113.5")])
            #expect(remote.status == 403 && remote.body.contains("TURNO_METRICS_TOKEN"))
        }
        let withToken: (inout ServerSettings) -> Void = { $0.metricsToken = "scrape-token-0123456789" }
        try await withTestServer(settings: withToken) { server in
            #expect(try await server.request(.GET, "/metrics").status == 401)
            #expect(try await server.request(.GET, "/metrics", headers: [("Authorization", "Bearer wrong-token-0123456789")]).status == 401)
            let scraped = try await server.request(.GET, "/metrics", headers: [("Authorization", "Bearer scrape-token-0123456789")])
            #expect(scraped.status == 200 && scraped.body.contains("# TYPE"))
        }
    }

    @Test("signed-in staff and keys have a bucket each; anonymous callers share their address's; public reads have their own")
    func rateLimitBuckets() async throws {
        let limits = RateLimits(
            api: .init(6, per: .seconds(3_600)),
            signedIn: .init(4, per: .seconds(3_600)),
            publicReads: .init(5, per: .seconds(3_600)),
            exports: nil
        )
        try await withTestServer(rateLimits: limits) { server in
            // The three sign-ins are anonymous requests: they take three of the address's six.
            let admin = try await StaffClient.admin(server)
            let (_, alice) = try await admin.createUser("alice", role: .operator)
            let (_, bob) = try await admin.createUser("bob", role: .operator)
            // Two colleagues behind one address: each has four requests, whatever the other does.
            var alices: [Int] = []
            for _ in 0..<5 { alices.append(try await alice.call(.GET, "/api/v1/me").status) }
            #expect(alices == [200, 200, 200, 200, 429])
            #expect(try await bob.call(.GET, "/api/v1/me").status == 200)
            // Staff requests did not use up the anonymous bucket of the same address.
            var anonymous: [Int] = []
            for _ in 0..<4 { anonymous.append(try await server.request(.GET, "/api/v1/tickets/no-such-token-0000000000").status) }
            #expect(anonymous == [404, 404, 404, 404], "public reads have their own bucket of 5")
            var others: [Int] = []
            for _ in 0..<4 { others.append(try await server.request(.GET, "/api/v1/me").status) }
            #expect(others == [401, 401, 401, 429])
            let read = try await server.request(.GET, "/api/v1/tickets/no-such-token-0000000000")
            let overRead = try await server.request(.GET, "/api/v1/tickets/no-such-token-0000000000")
            #expect(read.status == 404 && overRead.status == 429 && overRead.body.contains("public read"))
        }
    }

    @Test("a branch's language is any well-formed BCP 47 tag; pages speak the closest language Turno has")
    func languageTags() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            let italian = try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"language":"it-it"}"#)
            #expect(italian.status == 200)
            #expect(try decodeJSON(BranchView.self, italian.body).language == "it-IT")
            let publicID = try await server.publicID(ofBranch: 1)
            #expect(try await server.request(.GET, "/b/\(publicID)/kiosk").body.contains(#"<html lang="it">"#))
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"language":"en-GB"}"#).status == 200)
            #expect(try await server.request(.GET, "/b/\(publicID)/kiosk").body.contains(#"<html lang="en">"#))
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"language":"fr-CA"}"#).status == 200)
            #expect(try await server.request(.GET, "/b/\(publicID)/kiosk").body.contains(#"<html lang="en">"#))
            for bad in ["", "i", "english please", "en_GB", "toolongsubtag-x"] {
                #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"language":"\#(bad)"}"#).status == 422, "\(bad)")
            }
        }
    }
}
