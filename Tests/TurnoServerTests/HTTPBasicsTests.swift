import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Testing
import TurnoCore
import TurnoServer

@Suite("HTTP basics: problems, limits, operations endpoints")
struct HTTPBasicsTests {
    struct ProblemBody: Decodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
    }

    /// The answer of `/readyz`.
    struct Ready: Decodable, Equatable {
        let status: String
        let database: String
    }

    func problem(_ response: (status: Int, headers: HTTPHeaders, body: String)) throws -> ProblemBody {
        #expect(response.headers["Content-Type"].first == "application/problem+json")
        return try JSONDecoder().decode(ProblemBody.self, from: Data(response.body.utf8))
    }

    @Test("bad input gets the right status as problem+json, and the server keeps serving")
    func badInput() async throws {
        try await withTestServer(maxBody: 1_024) { server in
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
            let echoed = try decodeJSON(EchoModule.Greeting.self, good.body)
            #expect(echoed.name == "x" && echoed.count == 2)
            #expect(try await server.request(.GET, "/healthz").status == 200)
        }
    }

    @Test("a chunked body over the limit is refused with 413")
    func chunkedOversizedBody() async throws {
        try await withTestServer(maxBody: 1_024) { server in
            var request = HTTPClientRequest(url: server.baseURL + "/test/echo")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            let chunks = (0..<8).map { _ in ByteBuffer(string: String(repeating: "y", count: 512)) }
            request.body = .stream(chunks.async, length: .unknown)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status == .payloadTooLarge)
            #expect(try await server.request(.GET, "/healthz").status == 200)
        }
    }

    @Test("every response carries a request id and security headers; a sane client id is echoed")
    func requestIDAndHeaders() async throws {
        try await withTestServer { server in
            let generated = try await server.request(.GET, "/healthz")
            #expect(generated.headers["X-Request-Id"].first?.isEmpty == false)
            #expect(generated.headers["X-Content-Type-Options"].first == "nosniff")
            #expect(generated.headers["Content-Security-Policy"].first?.contains("script-src 'self'") == true)
            let echoed = try await server.request(.GET, "/healthz", headers: [("X-Request-Id", "abc-123")])
            #expect(echoed.headers["X-Request-Id"].first == "abc-123")
            let refused = try await server.request(.GET, "/healthz", headers: [("X-Request-Id", "<script>")])
            #expect(refused.headers["X-Request-Id"].first != "<script>")
        }
    }

    @Test("readiness reflects the database and metrics are in Prometheus text", arguments: TestDatabase.available)
    func operations(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let ready = try await server.request(.GET, "/readyz")
            #expect(ready.status == 200)
            #expect(try decodeJSON(Ready.self, ready.body) == Ready(status: "ready", database: database.rawValue))
            try await server.publish(topics: ["t"])
            _ = try await server.request(.GET, "/no/such/route")
            // Prometheus text, not JSON: its lines are what a scraper reads.
            let metrics = try await server.request(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("http_server_request_duration_bucket"))
            #expect(metrics.body.contains(#"http_response_status_code="404""#))
            #expect(metrics.body.contains("turno_events_published_total"))
            #expect(metrics.body.contains("turno_live_connections"))
        }
    }
}

@Suite("HTTPS served directly")
struct TLSTests {
    /// A self-signed certificate for 127.0.0.1, made with openssl.
    static func makeCertificate() throws -> (certificate: String, key: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        process.standardError = FileHandle.nullDevice
        try launch(process)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return (certificate, key)
    }

    @Test(
        "--tls-cert and --tls-key serve HTTPS, with Strict-Transport-Security",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl to make a certificate")
    )
    func https() async throws {
        let files = try Self.makeCertificate()
        var logger = Logger(label: "tls-test")
        logger.logLevel = .warning
        let settings = ServerSettings(
            port: 0,
            database: try await TestDatabase.sqlite.makeLocation(),
            identity: TestServer.identity,
            rateLimits: .off,
            tls: files
        )
        let platform = try await Platform.open(settings: settings, modules: turnoModules, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try buildApplication(platform: platform) { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: platform.services(around: app), logger: logger))
        let running = Task { try await group.run() }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        // The client and the server stop on every path, also when an expectation throws.
        do {
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let response = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(response.headers["Strict-Transport-Security"].first?.hasPrefix("max-age=") == true)
        } catch {
            try? await client.shutdown()
            await group.triggerGracefulShutdown()
            try? await running.value
            throw error
        }
        try await client.shutdown()
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test("plain HTTP sends no Strict-Transport-Security")
    func plainHTTP() async throws {
        try await withTestServer { server in
            let response = try await server.request(.GET, "/healthz")
            #expect(response.headers["Strict-Transport-Security"].isEmpty)
        }
    }
}
