import Foundation
import SQLKit
import Testing
import TurnoCore

@testable import Sessions

/// Idempotency keys follow Stripe's rules: scoped to the caller, remembered 24 hours, refused with another body.
@Suite("Idempotency keys")
struct IdempotencyTests {
    struct CreatedKey: Decodable { let key: String }

    /// Anonymous callers are told apart by address: the test server trusts loopback as a proxy, so a test can say
    /// where a request comes from with `X-Forwarded-For`.
    static func issue(
        _ server: TestServer,
        service: Int64 = 1,
        key: String,
        from address: String? = nil,
        bearer: String? = nil
    ) async throws -> (status: Int, ticket: QueueAPITests.Issued?, body: String) {
        var headers = [("Content-Type", "application/json"), ("Idempotency-Key", key)]
        if let address { headers.append(("X-Forwarded-For", address)) }
        if let bearer { headers.append(("Authorization", "Bearer \(bearer)")) }
        let branch = try await server.publicID(ofBranch: 1)
        let response = try await server.request(.POST, "/api/v1/branches/\(branch)/tickets", body: #"{"service":\#(service)}"#, headers: headers)
        return (response.status, try? decodeJSON(QueueAPITests.Issued.self, response.body), response.body)
    }

    @Test("a key returns the earlier ticket only to the caller who used it, within 24 hours, for the same request", arguments: TestDatabase.available)
    func ticketKeysAreScoped(database: TestDatabase) async throws {
        let trustLoopback: (inout ServerSettings) -> Void = { $0.trustedProxies = try! AddressRanges(parsing: "127.0.0.1") }
        try await withTestServer(database, settings: trustLoopback) { server in
            let admin = try await QueueAPITests.setUp(server)
            let first = try await Self.issue(server, key: "same-key", from: "198.51.100.1")
            let retry = try await Self.issue(server, key: "same-key", from: "198.51.100.1")
            #expect(first.status == 201 && retry.status == 200 && retry.ticket?.token == first.ticket?.token)

            // Another customer (another address), a staff user and a kiosk with the same key each get a ticket of their own.
            let stranger = try await Self.issue(server, key: "same-key", from: "198.51.100.2")
            #expect(stranger.status == 201 && stranger.ticket?.token != first.ticket?.token)
            let staff = try await Self.issue(server, key: "same-key", bearer: admin.accessToken)
            #expect(staff.status == 201 && staff.ticket?.token != first.ticket?.token && staff.ticket?.token != stranger.ticket?.token)
            let kiosk = try decodeJSON(
                CreatedKey.self,
                try await admin.call(.POST, "/api/v1/api-keys", json: #"{"name":"kiosk","scopes":["tickets:issue"]}"#).body
            )
            let byKiosk = try await Self.issue(server, key: "same-key", bearer: kiosk.key)
            #expect(byKiosk.status == 201 && byKiosk.ticket?.number == "A004")
            #expect(try await Self.issue(server, key: "same-key", bearer: kiosk.key).ticket?.number == "A004")

            // The same key with another request is refused, and makes nothing.
            let otherBody = try await Self.issue(server, service: 2, key: "same-key", from: "198.51.100.1")
            #expect(otherBody.status == 422 && otherBody.body.contains("different request"))
            #expect(try await Self.issue(server, key: "fresh", from: "198.51.100.9").ticket?.number == "A005")

            // After 24 hours the key is forgotten: the same request makes a new ticket.
            try await server.storage.write { transaction in
                try await transaction.sql.raw("UPDATE idempotency_keys SET created_at_ms = created_at_ms - \(bind: IdempotencyKey.lifetimeMs + 1_000)").run()
            }
            let later = try await Self.issue(server, key: "same-key", from: "198.51.100.1")
            #expect(later.status == 201 && later.ticket?.number == "A006")
        }
    }

    @Test("deliveries and sessions scope keys to the caller too", arguments: TestDatabase.available)
    func deliveryAndSessionKeys(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await StaffClient.admin(server)
            let appA = try await admin.createAPIKey(scopes: ["fleet:write", "sessions:write"])
            let appB = try await admin.createAPIKey(scopes: ["fleet:write", "sessions:write"])
            func post(_ path: String, _ json: String, bearer: String, key: String = "order-1") async throws -> (status: Int, id: String) {
                let response = try await server.request(
                    .POST,
                    path,
                    body: json,
                    headers: [
                        ("Content-Type", "application/json"), ("Authorization", "Bearer \(bearer)"), ("Idempotency-Key", key),
                    ]
                )
                let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
                return (response.status, "\(object?["id"] ?? response.body)")
            }
            let delivery = #"{"origin":{"x":1000,"y":1000},"destination":{"x":2000,"y":2000},"weight_kg":1}"#
            let a1 = try await post("/api/v1/deliveries", delivery, bearer: appA)
            let a2 = try await post("/api/v1/deliveries", delivery, bearer: appA)
            let b1 = try await post("/api/v1/deliveries", delivery, bearer: appB)
            #expect(a1.status == 201 && a2.status == 200 && a1.id == a2.id)
            #expect(b1.status == 201 && b1.id != a1.id)
            let heavier = #"{"origin":{"x":1000,"y":1000},"destination":{"x":2000,"y":2000},"weight_kg":2}"#
            #expect(try await post("/api/v1/deliveries", heavier, bearer: appA).status == 422)

            let start = Timestamp.format(milliseconds: SystemClock().nowMilliseconds() - 3_600_000)
            let session = #"{"user_id":"u1","sport":"run","started_at":"\#(start)","duration_s":600}"#
            // The key the deliveries used is refused for another route; a key of its own works.
            #expect(try await post("/api/v1/sessions", session, bearer: appA).status == 422)
            let s1 = try await post("/api/v1/sessions", session, bearer: appA, key: "run-1")
            let s2 = try await post("/api/v1/sessions", session, bearer: appA, key: "run-1")
            let s3 = try await post("/api/v1/sessions", session, bearer: appB, key: "run-1")
            #expect(s1.status == 201 && s2.status == 200 && s1.id == s2.id, "\(s1) \(s2)")
            #expect(s3.status == 201 && s3.id != s1.id)
        }
    }
}
