import Foundation
import PostgresNIO

/// Where the data lives: an embedded SQLite file, or a PostgreSQL server shared by several nodes.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Parses `sqlite://./data/turno.sqlite` or `postgres://user:pass@host:port/db`.
    public init(parsing text: String) throws(SettingsError) {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw SettingsError("the SQLite URL \(text) names no file") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(parsing: text))
        } else {
            throw SettingsError("database must be sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB, got \(text)")
        }
    }

    /// The location without any password, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite://\(path)"
        case .postgres(let location): "postgres://\(location.username)@\(location.host):\(location.port)/\(location.database)"
        }
    }
}

/// The parts of a PostgreSQL URL.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String

    public init(parsing text: String) throws(SettingsError) {
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw SettingsError("cannot read the PostgreSQL URL (expected postgres://USER:PASSWORD@HOST:PORT/DB)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw SettingsError("the PostgreSQL URL names no user (expected postgres://USER:PASSWORD@HOST:PORT/DB)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.isEmpty ? self.username : database
    }

    var clientConfiguration: PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: .disable
        )
    }
}

extension PostgresLocation {
    var connectionConfiguration: PostgresConnection.Configuration {
        PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: .disable)
    }
}
