import Foundation
import Testing

/// A misspelt field is an error the caller hears about, not a default they never asked for.
@Suite("Unknown request fields")
struct UnknownFieldTests {
    struct Problem: Decodable {
        let status: Int
        let detail: String
    }

    @Test("a misspelt field gets 422 naming it and the closest known field, on every module's routes, and changes nothing")
    func misspeltFields() async throws {
        try await withTestServer { server in
            let admin = try await StaffClient.admin(server)
            // The case that made a UTC, dedicated branch without a word.
            let branch = try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centro","timezone":"Europe/Rome","mode":"pooled"}"#)
            let problem = try decodeJSON(Problem.self, branch.body)
            #expect(branch.status == 422 && problem.detail == "`timezone` is not a field of this request; did you mean `time_zone`?")
            #expect(try await admin.call(.GET, "/api/v1/branches").body == #"{"items":[]}"#)
            let mode = try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centro","mode":"pooled"}"#)
            #expect(mode.status == 422 && mode.body.contains("did you mean `routing_mode`?"))
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Centro","time_zone":"Europe/Rome","routing_mode":"pooled"}"#).status == 201)

            // Nested fields are named with their place; a field with no near neighbour is named alone.
            let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3_600))
            let batch = try await admin.call(.POST, "/api/v1/sessions/batch", json: """
                {"sessions":[{"user_id":"u1","sport":"run","started_at":"\(start)","duration_s":60},
                             {"user_id":"u1","sport":"run","started_at":"\(start)","duration_s":60,"distnce_m":5}]}
                """)
            #expect(batch.status == 422 && batch.body.contains("`sessions[1].distnce_m`") && batch.body.contains("`distance_m`"))
            let delivery = try await admin.call(.POST, "/api/v1/deliveries", json: #"{"origin":{"x":1,"y":1,"z":3},"destination":{"x":2,"y":2},"weight_kg":1}"#)
            #expect(delivery.status == 422 && delivery.body.contains("`origin.z` is not a field of this request"))
            let user = try await admin.call(.POST, "/api/v1/users", json: #"{"username":"ann","password":"long enough password","role":"operator","branch_id":[1]}"#)
            #expect(user.status == 422 && user.body.contains("did you mean `branch_ids`?"))
            #expect(try await admin.call(.GET, "/api/v1/sessions").body.contains(#""items":[]"#))
        }
    }
}
