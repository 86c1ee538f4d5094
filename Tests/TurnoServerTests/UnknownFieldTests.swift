import Foundation
import Testing

/// A misspelt field is an error the caller hears about, not a default they never asked for.
@Suite("Unknown request fields")
struct UnknownFieldTests {
    struct Problem: Decodable {
        let status: Int
        let detail: String
    }

    /// The answer of `POST /api/v1/sessions/batch`: each item answers for itself.
    struct Batch: Decodable {
        struct Result: Decodable {
            let status: Int
            let problem: Problem?
        }
        let created: Int
        let failed: Int
        let results: [Result]
    }

    struct Sessions: Decodable {
        struct Session: Decodable { let user_id: String }
        let items: [Session]
    }

    @Test("a misspelt field gets 422 naming it and the closest known field, on every module's routes, and changes nothing")
    func misspeltFields() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            // The case that made a UTC, dedicated branch without a word.
            let branch = try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centro","timezone":"Europe/Rome","mode":"pooled"}"#)
            let problem = try decodeJSON(Problem.self, branch.body)
            #expect(branch.status == 422 && problem.detail == "`timezone` is not a field of this request; did you mean `time_zone`?")
            #expect(try decodeJSON(JSONValue.self, try await admin.call(.GET, "/api/v1/branches").body) == .object(["items": .array([])]))
            let mode = try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centro","mode":"pooled"}"#)
            #expect(mode.status == 422 && mode.body.contains("did you mean `routing_mode`?"))
            #expect(
                try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centro","time_zone":"Europe/Rome","routing_mode":"pooled"}"#).status == 201
            )

            // Nested fields are named with their place; a field with no near neighbour is named alone.
            let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3_600))
            let batch = try await admin.call(
                .POST,
                "/api/v1/sessions/batch",
                json: """
                    {"sessions":[{"user_id":"u1","sport":"run","started_at":"\(start)","duration_s":60},
                                 {"user_id":"u1","sport":"run","started_at":"\(start)","duration_s":60,"distnce_m":5}]}
                    """
            )
            // In a batch each item answers for itself.
            #expect(batch.status == 200)
            let answer = try decodeJSON(Batch.self, batch.body)
            #expect(answer.created == 1 && answer.failed == 1 && answer.results.map(\.status) == [201, 422])
            #expect(answer.results[1].problem?.detail.contains("`distnce_m` is not a field of a session") == true, "\(batch.body)")
            let delivery = try await admin.call(.POST, "/api/v1/deliveries", json: #"{"origin":{"x":1,"y":1,"z":3},"destination":{"x":2,"y":2},"weight_kg":1}"#)
            #expect(delivery.status == 422 && delivery.body.contains("`origin.z` is not a field of this request"))
            let user = try await admin.call(
                .POST,
                "/api/v1/users",
                json: #"{"username":"ann","password":"long enough password","role":"operator","branch_id":[1]}"#
            )
            #expect(user.status == 422 && user.body.contains("did you mean `branch_ids`?"))
            #expect(try decodeJSON(Sessions.self, try await admin.call(.GET, "/api/v1/sessions").body).items.map(\.user_id) == ["u1"])
        }
    }

    @Test("null is refused rather than read as absent; a batch item's mistake fails that item only; other details the API document states")
    func nullsAndDetails() async throws {
        try await withTestServer { server in
            let admin = try await QueueAPITests.setUp(server)
            let renamed = try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"name":null}"#)
            #expect(renamed.status == 422 && renamed.body.contains("`name` is null"))
            #expect(
                try await admin.call(.POST, "/api/v1/users", json: #"{"username":"ann","password":"long enough password","role":"operator","branch_ids":null}"#)
                    .status == 422
            )
            let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3_600))
            let batch = try await admin.call(
                .POST,
                "/api/v1/sessions/batch",
                json: """
                    {"sessions":[{"user_id":"u1","sport":"run","started_at":"\(start)","duration_s":60},
                                 {"user_id":"u1","sport":"run","started_at":"\(start)","duration_s":60,"notes":null},
                                 {"user_id":5,"sport":"run","started_at":"\(start)","duration_s":60},
                                 null]}
                    """
            )
            let answer = try decodeJSON(Batch.self, batch.body)
            #expect(batch.status == 200 && answer.created == 1 && answer.failed == 3 && answer.results.map(\.status) == [201, 422, 422, 422])
            // A password's length is in characters, not bytes.
            #expect(try await admin.call(.POST, "/api/v1/users", json: #"{"username":"pw","password":"ééééé","role":"operator"}"#).status == 422)
            // Two sessions cannot share an external_id.
            _ = try await admin.call(
                .POST,
                "/api/v1/sessions",
                json: #"{"user_id":"u2","sport":"run","started_at":"\#(start)","duration_s":60,"external_id":"x-1"}"#
            )
            let other = try await admin.call(.POST, "/api/v1/sessions", json: #"{"user_id":"u2","sport":"ride","started_at":"\#(start)","duration_s":60}"#)
            let id = try #require((try JSONSerialization.jsonObject(with: Data(other.body.utf8)) as? [String: Any])?["id"] as? Int)
            #expect(try await admin.call(.PATCH, "/api/v1/sessions/\(id)", json: #"{"external_id":"x-1"}"#).status == 409)
            // An empty state is not a state; a fixed route segment wins over a parameter in Allow.
            #expect(try await admin.call(.GET, "/api/v1/deliveries?state=").status == 400)
            #expect(try await admin.call(.GET, "/api/v1/deliveries?state=pending,,assigned").status == 400)
            let options = try await admin.call(.OPTIONS, "/api/v1/sessions/batch")
            #expect(options.status == 405 && options.headers["Allow"].first == "POST")
        }
    }
}
