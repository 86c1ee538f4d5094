import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

/// PostgreSQL shared by every node, through a pooled `PostgresClient`.
public final class PostgresEngine: DatabaseEngine {
    public let kind = DatabaseKind.postgres
    public let location: PostgresLocation
    let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger
    /// When the server last failed to answer and last answered (milliseconds): which lease timeout applies.
    private let health = Mutex<(failedAt: Int64, answeredAt: Int64)>((0, 0))

    /// Key of the session-level advisory lock held while migrations run.
    static let migrationLockKey: Int64 = 0x7475_726E_6F00_0001
    /// How long a request waits for a connection before it is told the database is unavailable (503): while
    /// PostgreSQL is down the pool keeps trying to connect, and nobody should wait for that unbounded. A busy pool
    /// (a burst of hundreds of requests) gets the longer wait; a server last seen unreachable the short one.
    static let leaseTimeout: Duration = .seconds(20)
    static let unreachableLeaseTimeout: Duration = .seconds(2)
    /// The longest one statement may run (PostgreSQL's `statement_timeout`, lock waits included).
    static let statementTimeout = "10s"
    /// The longest a request may hold a connection. Past it the connection is closed, which ends whatever waits on it:
    /// a connection to a server that went away is not always noticed until then.
    static let operationTimeout: Duration = .seconds(15)

    /// Connects and checks that the server answers within `timeout`.
    public static func open(_ location: PostgresLocation, poolSize: Int = 16, timeout: Duration = .seconds(5), logger: Logger) async throws -> PostgresEngine {
        var configuration = location.clientConfiguration
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = timeout
        configuration.options.additionalStartupParameters.append(("statement_timeout", statementTimeout))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let engine = PostgresEngine(location: location, client: client, logger: logger)
        do {
            try await withTimeout(timeout) { try await engine.ping() }
        } catch {
            await engine.close()
            throw DatabaseUnavailable("cannot reach PostgreSQL at \(location.host):\(location.port)/\(location.database): \(describe(error))")
        }
        return engine
    }

    private init(location: PostgresLocation, client: PostgresClient, logger: Logger) {
        self.location = location
        self.client = client
        self.logger = logger
        self.runTask = Task { await client.run() }
    }

    public func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withLeasedConnection { connection in
            let database = CheckedConnection(connection)
            try await database.raw("BEGIN").run()
            do {
                let value = try await body(database)
                try await database.raw("COMMIT").run()
                return value
            } catch {
                try? await database.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await withLeasedConnection { connection in
            try await body(CheckedConnection(connection))
        }
    }

    /// Runs `operation` on a pooled connection. Waiting for the connection is bounded by `leaseTimeout`; a lost
    /// connection or an unreachable server becomes `DatabaseUnavailable` (503 with `Retry-After`), whatever step it hit.
    /// The lease is asked for by a task of its own, so that a request the pool never answers (seen across a server
    /// restart) costs that task, not the caller: the caller stops waiting at the timeout, and a connection that
    /// arrives later goes straight back unused.
    private func withLeasedConnection<T: Sendable>(_ operation: (PostgresConnection) async throws -> T) async throws -> T {
        let handOver = ConnectionHandOver()
        let client = self.client
        Task {
            do {
                try await client.withConnection { connection in
                    guard handOver.offer(connection) else { return }
                    await handOver.returned()
                }
            } catch {
                handOver.fail(error)
            }
        }
        // One timer bounds both waits: for the connection (looked at again each time, as the event listener may find
        // the server gone a moment after this request began), then for the operation holding it.
        let timer = Task {
            let started = ContinuousClock.now
            var heldSince: ContinuousClock.Instant?
            while true {
                try await Task.sleep(for: .milliseconds(250))
                let now = ContinuousClock.now
                if let connection = handOver.held {
                    let since = heldSince ?? now
                    heldSince = since
                    if now - since >= Self.operationTimeout {
                        try await connection.close()
                        return
                    }
                } else {
                    let timeout = isUnreachable ? Self.unreachableLeaseTimeout : Self.leaseTimeout
                    if now - started >= timeout {
                        handOver.fail(DatabaseUnavailable("no PostgreSQL connection within \(timeout)"))
                        return
                    }
                }
            }
        }
        defer { timer.cancel() }
        do {
            let connection = try await handOver.connection()
            defer { handOver.giveBack() }
            noteAnswered()
            return try await operation(connection)
        } catch let error where Self.isUnavailable(error) || error is DatabaseUnavailable {
            noteUnreachable()
            throw error as? DatabaseUnavailable ?? DatabaseUnavailable(Self.describe(error))
        }
    }

    /// Whether the last sign of the server was a failure to answer.
    private var isUnreachable: Bool { health.withLock { $0.failedAt > $0.answeredAt } }

    /// The server did not answer (a request, or the event listener's connection attempt).
    public func noteUnreachable() {
        let now = SystemClock().nowMilliseconds()
        health.withLock { $0.failedAt = now }
    }

    private func noteAnswered() {
        let now = SystemClock().nowMilliseconds()
        health.withLock { $0.answeredAt = max($0.answeredAt, now) }
    }

    /// Whether `error` says the server cannot be reached (rather than that a statement was refused).
    static func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            // Class 08: connection exception; 57P01–57P03: shutting down or starting up; 53300: too many connections.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        default:
            return false
        }
    }

    public func withExclusiveLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            let database = connection.sql()
            try await database.raw("SELECT pg_advisory_lock(\(bind: Self.migrationLockKey))").run()
            do {
                let value = try await body()
                try await database.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLockKey))").run()
                return value
            } catch {
                try? await database.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLockKey))").run()
                throw error
            }
        }
    }

    public func ping() async throws {
        try await withLeasedConnection { connection in
            _ = try await connection.query("SELECT 1", logger: logger)
        }
    }

    public func close() async {
        runTask.cancel()
        await runTask.value
    }

    /// One line that says what went wrong talking to PostgreSQL: the code, the server's message and state, the
    /// underlying error — never the query's bound values, which may hold secrets.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            var parts = ["\(error.code)"]
            if let message = error.serverInfo?[.message] { parts.append(message) }
            if let state = error.serverInfo?[.sqlState] { parts.append("SQLSTATE \(state)") }
            if let underlying = error.underlying { parts.append(String(reflecting: underlying)) }
            return parts.joined(separator: ": ")
        }
        if let error = error as? DatabaseUnavailable { return error.description }
        if error is TimeoutError { return "no answer in time" }
        return String(reflecting: error)
    }
}

/// Hands a leased connection from the task that leased it to the request that asked, exactly once: either the
/// connection arrives first (and the request uses it, then gives it back), or the request gives up first (timeout or
/// failure) and a connection that comes later is refused, so it returns to the pool unused.
private final class ConnectionHandOver: Sendable {
    private enum State {
        case waiting(CheckedContinuation<PostgresConnection, any Error>?)
        case leased(PostgresConnection, givenBack: Bool, returnWaiter: CheckedContinuation<Void, Never>?)
        case failed(any Error)
    }

    private let state = Mutex<State>(.waiting(nil))

    /// The connection while the request holds it; nil before it has one and after it gave it back.
    var held: PostgresConnection? {
        state.withLock { state in
            guard case .leased(let connection, givenBack: false, _) = state else { return nil }
            return connection
        }
    }

    /// The leasing task offers its connection; false when the request no longer wants it.
    func offer(_ connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard case .waiting(let waiter) = state else { return false }
            state = .leased(connection, givenBack: false, returnWaiter: nil)
            waiter?.resume(returning: connection)
            return true
        }
    }

    /// No connection: the lease failed, or the timeout passed first. Ignored once a connection was handed over.
    func fail(_ error: any Error) {
        state.withLock { state in
            guard case .waiting(let waiter) = state else { return }
            state = .failed(error)
            waiter?.resume(throwing: error)
        }
    }

    /// Waits for the connection (or the failure); a cancelled wait gives up like a timeout.
    func connection() async throws -> PostgresConnection {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                state.withLock { state in
                    switch state {
                    case .waiting: state = .waiting(continuation)
                    case .leased(let connection, _, _): continuation.resume(returning: connection)
                    case .failed(let error): continuation.resume(throwing: error)
                    }
                }
            }
        } onCancel: {
            fail(CancellationError())
        }
    }

    /// The request is done with the connection.
    func giveBack() {
        state.withLock { state in
            guard case .leased(let connection, _, let waiter) = state else { return }
            state = .leased(connection, givenBack: true, returnWaiter: nil)
            waiter?.resume()
        }
    }

    /// The leasing task waits here until the request gives the connection back.
    func returned() async {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                guard case .leased(let connection, let givenBack, _) = state, !givenBack else {
                    continuation.resume()
                    return
                }
                state = .leased(connection, givenBack: false, returnWaiter: continuation)
            }
        }
    }
}

/// A pooled connection as SQLKit sees it, that refuses to send a statement once the connection is closed. The pool
/// can hand out a connection whose server has just gone away (a restart), and a statement written to a closed channel
/// is never answered: checked first, it fails at once, and the request answers 503.
private struct CheckedConnection: SQLDatabase {
    let connection: PostgresConnection
    let base: any SQLDatabase

    init(_ connection: PostgresConnection) {
        self.connection = connection
        self.base = connection.sql()
    }

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        guard !connection.isClosed else { return eventLoop.makeFailedFuture(DatabaseUnavailable("the connection to PostgreSQL was lost")) }
        return base.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        guard !connection.isClosed else { throw DatabaseUnavailable("the connection to PostgreSQL was lost") }
        try await base.execute(sql: query, onRow)
    }
}
