import Foundation
import NIOHTTP1
import Testing
import TurnoCore

@Suite("The OpenAPI contract")
struct OpenAPITests {
    @Test("every documented operation exists on the running server, and /docs lists them")
    func documentedRoutesExist() async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation())
        let response = try await server.request(.GET, "/openapi.json")
        #expect(response.status == 200)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        #expect(root["openapi"] as? String == "3.1.0")
        let paths = try #require(root["paths"] as? [String: [String: Any]])
        var checked = 0
        for (path, operations) in paths {
            for method in operations.keys {
                let concrete = path.replacingOccurrences(of: #"\{[a-z]+\}"#, with: "1", options: .regularExpression)
                // Live routes are asked without topics: a quick 400 shows they are served (an SSE stream would never end).
                let answer = try await server.request(HTTPMethod(rawValue: method.uppercased()), concrete)
                #expect(!answer.body.contains("no route for"), "\(method.uppercased()) \(path) is documented but not served")
                checked += 1
            }
        }
        #expect(checked >= 45)
        let docs = try await server.request(.GET, "/docs")
        #expect(docs.status == 200 && docs.body.contains("/api/v1/queues/{queue}/call-next"))
        try await server.stop()
    }
}
