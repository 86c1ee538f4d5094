import AsyncHTTPClient
import Configuration
import Foundation
import Hummingbird
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PostgresNIO
import SQLKit
import ServiceLifecycle
import Synchronization
import Testing
import TurnoCore
import TurnoServer

/// Where a test's database lives: a new SQLite file, or a new database on the test PostgreSQL cluster.
enum TestDatabase: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The URL of the cluster the test script started, when it did.
    static let postgresURL = ProcessInfo.processInfo.environment["TURNO_TEST_POSTGRES_URL"]

    /// The databases available in this run: SQLite always, PostgreSQL when the test script provides it.
    static var available: [TestDatabase] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A fresh, empty database of this kind.
    func makeLocation() async throws -> DatabaseLocation {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-test-\(UUID().uuidString)")
            return .sqlite(path: directory.appendingPathComponent("turno.sqlite").path)
        case .postgres:
            return .postgres(try await Self.createPostgresDatabase())
        }
    }

    static func createPostgresDatabase() async throws -> PostgresLocation {
        guard let url = postgresURL else { throw SettingsError("TURNO_TEST_POSTGRES_URL is not set") }
        var location = try PostgresLocation(parsing: url)
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: location.host,
                port: location.port,
                username: location.username,
                password: location.password,
                database: location.database,
                tls: .disable
            ),
            id: 1,
            logger: Logger(label: "test")
        )
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test"))
        try await connection.close()
        location.database = name
        return location
    }
}

/// A real `turno` server on a free loopback port, run in-process until `stop()`.
final class TestServer: Sendable {
    let platform: Platform
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The first administrator's password in tests.
    static let adminPassword = "correct horse battery"
    /// bcrypt at its lowest cost keeps the tests fast; the command line never goes below 12.
    static let identity = IdentitySettings(bcryptCost: 4, adminPassword: adminPassword)
    var storage: Storage { platform.storage }

    static func start(
        database: DatabaseLocation,
        maxBody: Int = ServerSettings.defaultMaxBody,
        liveClientBuffer: Int = 1_000,
        rateLimits: RateLimits = .off,
        ticketLimit: String = "off",
        identity: IdentitySettings = TestServer.identity,
        modules: [any TurnoModule] = turnoModules + [EchoModule()],
        clock: any ServerClock = SystemClock(),
        settings adjust: (inout ServerSettings) -> Void = { _ in }
    ) async throws -> TestServer {
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        var settings = ServerSettings(
            port: 0,
            database: database,
            maxBody: maxBody,
            liveClientBuffer: liveClientBuffer,
            identity: identity,
            rateLimits: rateLimits,
            config: Self.config(["rateTickets": ticketLimit])
        )
        adjust(&settings)
        let platform = try await Platform.open(settings: settings, modules: modules, logger: logger, clock: clock)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = try buildApplication(platform: platform, modules: modules) { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: platform.services(around: app), logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw SettingsError("the test server did not start") }
        return TestServer(platform: platform, port: port, group: group, task: task)
    }

    /// A configuration with these `turno.*` keys, as flags or `TURNO_*` variables would give them (the modules' settings).
    static func config(_ values: [String: String]) -> ConfigReader {
        let pairs = values.map { (AbsoluteConfigKey(["turno", $0.key]), ConfigValue(.string($0.value), isSecret: false)) }
        return ConfigReader(providers: [InMemoryProvider(name: "test", values: Dictionary(uniqueKeysWithValues: pairs))])
    }

    private init(platform: Platform, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.platform = platform
        self.port = port
        self.group = group
        self.task = task
    }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Commits one event on `topics` (through this node's storage) and returns it as stored.
    @discardableResult
    func publish(type: String = "test.happened", stream: String = "test:1", topics: [String], data: String = #"{"n":1}"#) async throws -> StoredEvent {
        try await storage.write { transaction in
            try await transaction.append(NewEvent(tenant: 1, stream: stream, type: type, topics: topics, json: data))
        }
    }

    /// A branch's public id (the one in kiosk, display and snapshot URLs), read from the database.
    func publicID(ofBranch id: Int64) async throws -> String {
        try await storage.read { sql in
            guard let row = try await sql.raw("SELECT public_id FROM branches WHERE id = \(bind: id)").first() else {
                throw SettingsError("there is no branch \(id)")
            }
            return try row.decode(column: "public_id", as: String.self)
        }
    }

    // MARK: HTTP

    /// Sends a request to this server, or through `proxy` (`host:port`) when given.
    func request(
        _ method: HTTPMethod,
        _ path: String,
        body: String? = nil,
        headers: [(String, String)] = [],
        via proxy: String? = nil,
        timeout: Int64 = 10
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        let response = try await requestBytes(method, path, body: body, headers: headers, via: proxy, timeout: timeout)
        return (response.status, response.headers, String(decoding: response.body, as: UTF8.self))
    }

    /// As `request`, with the body as bytes (a PDF, say).
    func requestBytes(
        _ method: HTTPMethod,
        _ path: String,
        body: String? = nil,
        headers: [(String, String)] = [],
        via proxy: String? = nil,
        timeout: Int64 = 10
    ) async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var request = HTTPClientRequest(url: (proxy.map { "http://\($0)" } ?? baseURL) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await testHTTPClient.execute(request, timeout: .seconds(timeout))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), response.headers, Array(buffer: bytes))
    }
}

/// Runs `body` against a new test server on a fresh database and stops the server afterwards, also when `body` throws.
/// The parameters are those of `TestServer.start`, with the same defaults.
func withTestServer<T>(
    _ database: TestDatabase = .sqlite,
    maxBody: Int = ServerSettings.defaultMaxBody,
    liveClientBuffer: Int = 1_000,
    rateLimits: RateLimits = .off,
    ticketLimit: String = "off",
    identity: IdentitySettings = TestServer.identity,
    modules: [any TurnoModule] = turnoModules + [EchoModule()],
    clock: any ServerClock = SystemClock(),
    settings: (inout ServerSettings) -> Void = { _ in },
    _ body: (TestServer) async throws -> T
) async throws -> T {
    try await withTestServer(
        at: try await database.makeLocation(),
        maxBody: maxBody,
        liveClientBuffer: liveClientBuffer,
        rateLimits: rateLimits,
        ticketLimit: ticketLimit,
        identity: identity,
        modules: modules,
        clock: clock,
        settings: settings,
        body
    )
}

/// Runs `body` against a new test server on the database at `location` (one another node may share, or one a test
/// prepared) and stops the server afterwards, also when `body` throws. Stopping is safe to repeat, so `body` may
/// stop the server itself, for a test about stopping.
func withTestServer<T>(
    at location: DatabaseLocation,
    maxBody: Int = ServerSettings.defaultMaxBody,
    liveClientBuffer: Int = 1_000,
    rateLimits: RateLimits = .off,
    ticketLimit: String = "off",
    identity: IdentitySettings = TestServer.identity,
    modules: [any TurnoModule] = turnoModules + [EchoModule()],
    clock: any ServerClock = SystemClock(),
    settings: (inout ServerSettings) -> Void = { _ in },
    _ body: (TestServer) async throws -> T
) async throws -> T {
    let server = try await TestServer.start(
        database: location,
        maxBody: maxBody,
        liveClientBuffer: liveClientBuffer,
        rateLimits: rateLimits,
        ticketLimit: ticketLimit,
        identity: identity,
        modules: modules,
        clock: clock,
        settings: settings
    )
    do {
        let result = try await body(server)
        try await server.stop()
        return result
    } catch {
        try? await server.stop()
        throw error
    }
}

/// Runs `body` against two nodes sharing a fresh database, and stops them afterwards, also when `body` throws.
/// On PostgreSQL they are two servers; on SQLite, which has one node per database, both are the same server.
func withTwoNodes<T>(_ database: TestDatabase, _ body: (_ nodeA: TestServer, _ nodeB: TestServer) async throws -> T) async throws -> T {
    let location = try await database.makeLocation()
    return try await withTestServer(at: location) { nodeA in
        guard database == .postgres else { return try await body(nodeA, nodeA) }
        return try await withTestServer(at: location) { nodeB in try await body(nodeA, nodeB) }
    }
}

/// An HTTP client that shows redirects instead of following them, as the tests need to see them.
/// Up to 64 connections per server and a long wait for one, for the tests that send hundreds of requests at once.
let testHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(120)))
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

/// The JSON of one live message, as a test reads it.
struct ReceivedMessage: Decodable, Equatable {
    let id: Int64
    let type: String
    let topic: String
    let version: Int64
}

/// Collects live messages from a WebSocket until `count` have arrived (or the connection ends).
func receiveOverWebSocket(
    url: String,
    count: Int,
    onConnect: @escaping @Sendable () async throws -> Void = {}
) async throws -> (messages: [ReceivedMessage], close: WebSocketCloseFrame?) {
    let received = Mutex<[ReceivedMessage]>([])
    let close = try await WebSocketClient.connect(url: url, logger: Logger(label: "test-ws")) { inbound, outbound, _ in
        try await onConnect()
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            let decoded = try JSONDecoder().decode(ReceivedMessage.self, from: Data(text.utf8))
            let done = received.withLock { list in
                list.append(decoded)
                return list.count >= count
            }
            if done { break }
        }
        try await outbound.close(.normalClosure, reason: nil)
    }
    return (received.withLock { $0 }, close)
}

/// Collects live messages from a WebSocket until `count` of those `counted` have arrived (or the connection ends), running
/// `act` beside the reading with what has arrived so far: a test can wait for one message before it causes the next.
func receiveOverWebSocket(
    url: String,
    count: Int,
    counting counted: @escaping @Sendable (ReceivedMessage) -> Bool = { _ in true },
    meanwhile act: @escaping @Sendable (_ received: @escaping @Sendable () -> [ReceivedMessage]) async throws -> Void
) async throws -> (messages: [ReceivedMessage], close: WebSocketCloseFrame?) {
    let received = ReceivedMessages()
    let close = try await WebSocketClient.connect(url: url, logger: Logger(label: "test-ws")) { inbound, outbound, _ in
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await act { received.all } }
            group.addTask {
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message else { continue }
                    received.append(try JSONDecoder().decode(ReceivedMessage.self, from: Data(text.utf8)))
                    if received.all.filter(counted).count >= count { break }
                }
            }
            // The first failure ends the other task too (leaving the group cancels it).
            while try await group.next() != nil {}
        }
        try await outbound.close(.normalClosure, reason: nil)
    }
    return (received.all, close)
}

/// The live messages a client has received so far, shared with a task that acts meanwhile.
final class ReceivedMessages: Sendable {
    private let list = Mutex<[ReceivedMessage]>([])

    var all: [ReceivedMessage] { list.withLock { $0 } }

    func append(_ message: ReceivedMessage) {
        list.withLock { $0.append(message) }
    }
}

/// The answer of `/live/poll`.
struct LivePoll: Decodable {
    let last_id: Int64
    let messages: [ReceivedMessage]
}

/// Collects live messages from an SSE stream until `count` have arrived; returns them with their SSE ids.
func receiveOverSSE(
    url: String,
    count: Int,
    lastEventID: Int64? = nil,
    onConnect: @escaping @Sendable () async throws -> Void = {}
) async throws -> [(sseID: Int64, message: ReceivedMessage)] {
    var request = HTTPClientRequest(url: url)
    if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    guard response.status == .ok else { throw SettingsError("SSE answered \(response.status)") }
    try await onConnect()
    var received: [(Int64, ReceivedMessage)] = []
    var pending = ""
    var currentID: Int64?
    for try await chunk in response.body {
        pending += String(buffer: chunk)
        while let newline = pending.firstIndex(of: "\n") {
            let line = String(pending[..<newline])
            pending = String(pending[pending.index(after: newline)...])
            if line.hasPrefix("id: ") {
                currentID = Int64(line.dropFirst(4))
            } else if line.hasPrefix("data: "), let id = currentID {
                let message = try JSONDecoder().decode(ReceivedMessage.self, from: Data(line.dropFirst(6).utf8))
                received.append((id, message))
                if received.count >= count { return received }
            }
        }
    }
    return received
}

/// A module used only by tests: a JSON route for checking how bad bodies are answered.
struct EchoModule: TurnoModule {
    let name = "echo"
    let migrations: [Migration] = []
    let pages: [PageLink] = []

    struct Greeting: Codable, ResponseEncodable {
        let name: String
        let count: Int
    }

    func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {
        router.post("/test/echo") { request, context -> Greeting in
            try await request.decode(as: Greeting.self, context: context)
        }
    }
}

/// A free TCP port on 127.0.0.1, found by binding to port 0 and letting it go.
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}
