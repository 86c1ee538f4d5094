import Logging
import PostgresNIO

/// Work that must run on exactly one node at a time (the fleet's dispatcher and simulator). On PostgreSQL the node
/// that holds a session advisory lock on a connection of its own leads; when that node dies its connection drops,
/// PostgreSQL releases the lock, and another node takes it within `retry`. On SQLite there is one node: it leads.
public struct Leadership: Sendable {
    let storage: Storage
    let key: Int64
    let retry: Duration
    let logger: Logger

    /// `key` names the work (one advisory lock per kind of work); `retry` is how often followers try to take over.
    public init(storage: Storage, key: Int64, retry: Duration = .seconds(1), logger: Logger) {
        self.storage = storage
        self.key = key
        self.retry = retry
        self.logger = logger
    }

    /// Runs `lead` whenever this node is the leader, until cancelled. `lead` is cancelled as soon as the lock's
    /// connection fails, because another node may already have taken over.
    public func run(_ lead: @escaping @Sendable () async -> Void) async {
        guard let engine = storage.engine as? PostgresEngine else {
            await lead()
            return
        }
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: engine.location.connectionConfiguration, id: 2, logger: logger)
                do {
                    if try await take(on: connection) {
                        logger.info("leading", metadata: ["lock": "\(key)"])
                        await withTaskGroup(of: Void.self) { group in
                            group.addTask { await lead() }
                            group.addTask { await watch(connection) }
                            // Whichever ends first (cancellation, or the connection failing) ends the other.
                            await group.next()
                            group.cancelAll()
                        }
                        if !Task.isCancelled { logger.warning("no longer leading", metadata: ["lock": "\(key)"]) }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if !Task.isCancelled { logger.warning("cannot reach PostgreSQL to lead", metadata: ["error": "\(loggable(error))"]) }
            }
            try? await Task.sleep(for: retry)
        }
    }

    private func take(on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("SELECT pg_try_advisory_lock(\(key)) AS taken", logger: logger)
        for try await taken in rows.decode(Bool.self) { return taken }
        return false
    }

    /// Returns when the connection holding the lock stops answering (an error, or no answer within three retries:
    /// a half-open connection may already have lost the lock to another node), or when cancelled.
    private func watch(_ connection: PostgresConnection) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: retry)
                let answered = await withTaskGroup(of: Bool.self) { group in
                    group.addTask { (try? await connection.query("SELECT 1", logger: logger).collect()) != nil }
                    group.addTask {
                        try? await Task.sleep(for: retry * 3)
                        return false
                    }
                    let first = await group.next() ?? false
                    group.cancelAll()
                    return first
                }
                guard answered else { return }
            } catch {
                return
            }
        }
    }
}
