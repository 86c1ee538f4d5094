import SQLKit

/// The two SQL dialects Turno speaks. Stores keep their few differences (upserts, locking) behind a switch on this.
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// A database Turno can run on: the embedded SQLite file or a shared PostgreSQL.
public protocol DatabaseEngine: Sendable {
    var kind: DatabaseKind { get }
    /// Runs `body` inside one write transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` with a connection for reading outside any write transaction.
    func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body` holding a lock that no other node can hold at the same time (migrations).
    func withExclusiveLock<T: Sendable>(_ body: () async throws -> T) async throws -> T
    /// Throws unless the database answers a trivial query.
    func ping() async throws
    /// Closes every connection; called once at shutdown.
    func close() async
}

/// The database could not be opened or reached; the message says why in one line.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
