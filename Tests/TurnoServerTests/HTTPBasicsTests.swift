import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TurnoCore

@Suite("HTTP basics: problems, limits, operations endpoints")
struct HTTPBasicsTests {
    struct ProblemBody: Decodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
    }

    func problem(_ response: (status: Int, headers: HTTPHeaders, body: String)) throws -> ProblemBody {
        #expect(response.headers["Content-Type"].first == "application/problem+json")
        return try JSONDecoder().decode(ProblemBody.self, from: Data(response.body.utf8))
    }

    @Test("bad input gets the right status as problem+json, and the server keeps serving")
    func badInput() async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation(), maxBody: 1_024)
        let json = [("Content-Type", "application/json")]

        let malformed = try problem(try await server.request(.POST, "/test/echo", body: #"{"name": "x", "#, headers: json))
        #expect(malformed.status == 400)
        #expect(malformed.detail.contains("JSON"))

        let missing = try problem(try await server.request(.POST, "/test/echo", body: #"{"name": "x"}"#, headers: json))
        #expect(missing.status == 400)
        #expect(missing.detail.contains("`count` is required"))

        let wrongType = try problem(try await server.request(.POST, "/test/echo", body: #"{"name": "x", "count": "two"}"#, headers: json))
        #expect(wrongType.detail.contains("`count` must be an integer"))

        let oversized = try await server.request(.POST, "/test/echo", body: String(repeating: "x", count: 4_096), headers: json)
        #expect(oversized.status == 413)
        #expect(try problem(oversized).detail.contains("1024"))

        let unknown = try await server.request(.GET, "/no/such/route")
        #expect(unknown.status == 404)
        #expect(try problem(unknown).detail.contains("/no/such/route"))

        let good = try await server.request(.POST, "/test/echo", body: #"{"name": "x", "count": 2}"#, headers: json)
        #expect(good.status == 200)
        #expect(good.body.contains(#""count":2"#))
        #expect(try await server.request(.GET, "/healthz").status == 200)
        try await server.stop()
    }

    @Test("a chunked body over the limit is refused with 413")
    func chunkedOversizedBody() async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation(), maxBody: 1_024)
        var request = HTTPClientRequest(url: server.baseURL + "/test/echo")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let chunks = (0..<8).map { _ in ByteBuffer(string: String(repeating: "y", count: 512)) }
        request.body = .stream(chunks.async, length: .unknown)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status == .payloadTooLarge)
        #expect(try await server.request(.GET, "/healthz").status == 200)
        try await server.stop()
    }

    @Test("every response carries a request id and security headers; a sane client id is echoed")
    func requestIDAndHeaders() async throws {
        let server = try await TestServer.start(database: try await TestDatabase.sqlite.makeLocation())
        let generated = try await server.request(.GET, "/healthz")
        #expect(generated.headers["X-Request-Id"].first?.isEmpty == false)
        #expect(generated.headers["X-Content-Type-Options"].first == "nosniff")
        #expect(generated.headers["Content-Security-Policy"].first?.contains("script-src 'self'") == true)
        let echoed = try await server.request(.GET, "/healthz", headers: [("X-Request-Id", "abc-123")])
        #expect(echoed.headers["X-Request-Id"].first == "abc-123")
        let refused = try await server.request(.GET, "/healthz", headers: [("X-Request-Id", "<script>")])
        #expect(refused.headers["X-Request-Id"].first != "<script>")
        try await server.stop()
    }

    @Test("readiness reflects the database and metrics are in Prometheus text", arguments: TestDatabase.available)
    func operations(database: TestDatabase) async throws {
        let server = try await TestServer.start(database: try await database.makeLocation())
        let ready = try await server.request(.GET, "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.contains(database.rawValue))
        try await server.publish(topics: ["t"])
        _ = try await server.request(.GET, "/no/such/route")
        let metrics = try await server.request(.GET, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("http_server_request_duration_bucket"))
        #expect(metrics.body.contains(#"http_response_status_code="404""#))
        #expect(metrics.body.contains("turno_events_published_total"))
        #expect(metrics.body.contains("turno_live_connections"))
        try await server.stop()
    }
}
