import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization

/// The embedded database: one SQLite file in WAL mode, one writer connection (writes queue on a lock)
/// and a few reader connections that never wait for the writer.
public final class SQLiteEngine: DatabaseEngine {
    public let kind = DatabaseKind.sqlite
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let writeLock = AsyncLock()
    private let nextReader = Counter()

    /// Opens the file at `path`, creating it and its directory if needed.
    public static func open(path: String, readers readerCount: Int = 2, logger: Logger) async throws -> SQLiteEngine {
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw DatabaseUnavailable("cannot create the data directory \(directory): \(Self.reason(error))")
            }
            guard FileManager.default.isWritableFile(atPath: directory) else {
                throw DatabaseUnavailable("the data directory \(directory) is not writable")
            }
        }
        let storage = SQLiteConnection.Storage.file(path: path)
        let writer: SQLiteConnection
        do {
            writer = try await SQLiteConnection.open(storage: storage, logger: logger)
        } catch {
            throw DatabaseUnavailable("cannot open the SQLite database \(path): \(Self.reason(error))")
        }
        try await configure(writer)
        var readers: [SQLiteConnection] = []
        for _ in 0..<max(1, readerCount) {
            let reader = try await SQLiteConnection.open(storage: storage, logger: logger)
            try await configure(reader)
            readers.append(reader)
        }
        return SQLiteEngine(writer: writer, readers: readers)
    }

    private init(writer: SQLiteConnection, readers: [SQLiteConnection]) {
        self.writer = writer
        self.readers = readers
    }

    private static func configure(_ connection: SQLiteConnection) async throws {
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 5000",
            "PRAGMA foreign_keys = ON",
        ] {
            _ = try await connection.query(pragma)
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? CocoaError, let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return "\(error)"
    }

    public func transaction<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        await writeLock.lock()
        let database = writer.sql()
        do {
            try await database.raw("BEGIN IMMEDIATE").run()
        } catch {
            await writeLock.unlock()
            throw error
        }
        do {
            let value = try await body(database)
            try await database.raw("COMMIT").run()
            await writeLock.unlock()
            return value
        } catch {
            try? await database.raw("ROLLBACK").run()
            await writeLock.unlock()
            throw error
        }
    }

    public func read<T: Sendable>(_ body: (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(readers[nextReader.next() % readers.count].sql())
    }

    public func withExclusiveLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        // SQLite serialises writers itself (BEGIN IMMEDIATE), even across processes.
        try await body()
    }

    public func ping() async throws {
        _ = try await writer.query("SELECT 1")
    }

    public func close() async {
        for connection in readers + [writer] {
            try? await connection.close()
        }
    }
}

/// A thread-safe round-robin counter.
private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            value &+= 1
            return value & Int.max
        }
    }
}
