import Foundation
import Testing
import TurnoCore

/// Runs the sample configuration in `deploy/nginx.conf` in front of two nodes sharing PostgreSQL.
@Suite("Several nodes behind nginx")
struct DeploymentTests {
    static let nginx = ProcessInfo.processInfo.environment["TURNO_TEST_NGINX"]

    /// `deploy/nginx.conf` with its ports replaced by the test's.
    static func configuration(listen: Int, nodes: [Int], proxyBind: String? = nil) throws -> String {
        let sample = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/nginx.conf")
        var text = try String(contentsOf: sample, encoding: .utf8)
        text = text.replacingOccurrences(of: "listen 127.0.0.1:8080;", with: "listen 127.0.0.1:\(listen);")
        if let proxyBind {
            text = text.replacingOccurrences(of: "proxy_pass http://turno;", with: "proxy_pass http://turno;\n            proxy_bind \(proxyBind);")
        }
        let upstreams = nodes.map { "        server 127.0.0.1:\($0) max_fails=1 fail_timeout=2s;" }.joined(separator: "\n")
        let sampleUpstreams = """
                    server 127.0.0.1:8081 max_fails=1 fail_timeout=2s;
                    server 127.0.0.1:8082 max_fails=1 fail_timeout=2s;
            """
        #expect(text.components(separatedBy: sampleUpstreams).count == 3, "deploy/nginx.conf changed: update this test")
        text = text.replacingOccurrences(of: sampleUpstreams, with: upstreams)
        return text.replacingOccurrences(of: "worker_processes auto;", with: "worker_processes 1;")
    }

    /// Runs nginx with the sample configuration in front of `nodes` until `body` returns.
    static func withNginx<T>(nodes: [TestServer], proxyBind: String? = nil, _ body: (_ proxy: String) async throws -> T) async throws -> T {
        let listen = try await freeLoopbackPort()
        let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("turno-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: prefix, withIntermediateDirectories: true)
        try Self.configuration(listen: listen, nodes: nodes.map(\.port), proxyBind: proxyBind).write(
            to: prefix.appendingPathComponent("nginx.conf"),
            atomically: true,
            encoding: .utf8
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.nginx!)
        process.arguments = ["-p", prefix.path, "-c", "nginx.conf", "-g", "daemon off;"]
        try launch(process)
        defer { process.terminate() }
        let proxy = "127.0.0.1:\(listen)"
        try await eventually(timeout: .seconds(5)) { (try? await nodes[0].request(.GET, "/healthz", via: proxy))?.status == 200 }
        return try await body(proxy)
    }

    @Test(
        "behind nginx the client's real address counts, whatever X-Forwarded-For it forges",
        .enabled(if: nginx != nil, "needs nginx, which scripts/test provides")
    )
    func forgedForwardedFor() async throws {
        // The client is 127.0.0.1; nginx reaches Turno from 127.0.0.2, the only trusted proxy.
        let trustProxy: (inout ServerSettings) -> Void = { $0.trustedProxies = try! AddressRanges(parsing: "127.0.0.2") }
        try await withTestServer(ticketLimit: "2/hour", settings: trustProxy) { node in
            _ = try await QueueAPITests.setUp(node)
            let branch = try await node.publicID(ofBranch: 1)
            try await Self.withNginx(nodes: [node], proxyBind: "127.0.0.2") { proxy in
                var statuses: [Int] = []
                for forged in ["203.0.113.1", "203.0.113.2", "203.0.113.3, 198.51.100.4"] {
                    let response = try await node.request(
                        .POST,
                        "/api/v1/branches/\(branch)/tickets",
                        body: #"{"service":1}"#,
                        headers: [("Content-Type", "application/json"), ("X-Forwarded-For", forged)],
                        via: proxy
                    )
                    statuses.append(response.status)
                }
                // Three forged addresses, one real one: the limit of two per address holds.
                #expect(statuses == [201, 201, 429])
                let login = try await node.request(
                    .POST,
                    "/api/v1/auth/login",
                    body: #"{"username":"admin","password":"wrong password"}"#,
                    headers: [("Content-Type", "application/json"), ("X-Forwarded-For", "203.0.113.9")],
                    via: proxy
                )
                #expect(login.status == 401)
                let admin = try await StaffClient.admin(node)
                let audit = try await admin.call(.GET, "/api/v1/audit?action=auth.login_failed")
                #expect(try decodeJSON(AuditPage.self, audit.body).items.contains { $0.address == "127.0.0.1" }, "\(audit.body)")
                // The forged address is nowhere in the trail.
                #expect(!audit.body.contains("203.0.113.9"), "\(audit.body)")
            }
        }
    }

    @Test(
        "requests, WebSocket and SSE through nginx reach nodes that share PostgreSQL",
        .enabled(if: TestDatabase.postgresURL != nil && nginx != nil, "needs PostgreSQL and nginx, which scripts/test provides")
    )
    func throughNginx() async throws {
        try await withTwoNodes(.postgres) { nodeA, nodeB in
            try await Self.withNginx(nodes: [nodeA, nodeB]) { proxy in
                for _ in 0..<4 {
                    let response = try await nodeA.request(.GET, "/readyz", via: proxy)
                    #expect(response.status == 200)
                    #expect(try decodeJSON(HTTPBasicsTests.Ready.self, response.body) == HTTPBasicsTests.Ready(status: "ready", database: "postgres"))
                }
                let poll = try await nodeA.request(.GET, "/live/poll?topics=x", via: proxy)
                let since = try decodeJSON(LivePoll.self, poll.body).last_id

                async let sse = receiveOverSSE(url: "http://\(proxy)/live/sse?topics=branch:1&since=\(since)", count: 2)
                let (webSocket, _) = try await receiveOverWebSocket(url: "ws://\(proxy)/live/ws?topics=branch:1&since=\(since)", count: 2) {
                    try await nodeA.publish(type: "test.from_a", stream: "d:1", topics: ["branch:1"])
                    try await nodeB.publish(type: "test.from_b", stream: "d:1", topics: ["branch:1"])
                }
                #expect(webSocket.map(\.type) == ["test.from_a", "test.from_b"])
                #expect(try await sse.map(\.message.type) == ["test.from_a", "test.from_b"])
            }
        }
    }
}
