import Configuration
import Foundation

/// Everything `turno serve` needs to start, resolved from flags, `TURNO_*` environment variables,
/// an optional JSON settings file and the defaults, in that order of precedence.
public struct ServerSettings: Sendable {
    public enum LogFormat: String, Sendable, CaseIterable {
        case json
        case text
    }

    public var host: String
    public var port: Int
    public var database: DatabaseLocation
    public var logFormat: LogFormat
    public var logLevel: String
    /// Largest request body accepted, in bytes; larger bodies get 413.
    public var maxBody: Int
    /// How many recent events each node keeps in memory so live clients can resume.
    public var liveReplayCapacity: Int
    /// How many messages may wait for one live client before it is disconnected as too slow.
    public var liveClientBuffer: Int
    /// Seconds between heartbeats on idle live connections.
    public var liveHeartbeatSeconds: Int

    public static let defaultDatabase = "sqlite://./data/turno.sqlite"
    public static let defaultMaxBody = 1 << 20

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        database: DatabaseLocation,
        logFormat: LogFormat = .text,
        logLevel: String = "info",
        maxBody: Int = ServerSettings.defaultMaxBody,
        liveReplayCapacity: Int = 10_000,
        liveClientBuffer: Int = 1_000,
        liveHeartbeatSeconds: Int = 15
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.logFormat = logFormat
        self.logLevel = logLevel
        self.maxBody = maxBody
        self.liveReplayCapacity = liveReplayCapacity
        self.liveClientBuffer = liveClientBuffer
        self.liveHeartbeatSeconds = liveHeartbeatSeconds
    }

    /// Reads the settings from a configuration reader whose keys are `turno.host`, `turno.port`,
    /// `turno.database`, `turno.logFormat`, `turno.maxBody`, … (environment: `TURNO_HOST`, `TURNO_MAX_BODY`, …).
    public init(config: ConfigReader) throws(SettingsError) {
        let turno = config.scoped(to: "turno")
        let host = turno.string(forKey: "host", default: "127.0.0.1")
        let port = turno.int(forKey: "port", default: 8080)
        guard (0...65535).contains(port) else {
            throw SettingsError("port must be between 0 and 65535, got \(port)")
        }
        let databaseText = turno.string(forKey: "database", default: Self.defaultDatabase)
        let database = try DatabaseLocation(parsing: databaseText)
        let formatText = turno.string(forKey: "logFormat", default: "text")
        guard let logFormat = LogFormat(rawValue: formatText) else {
            throw SettingsError("log format must be json or text, got \(formatText)")
        }
        let maxBody = turno.int(forKey: "maxBody", default: Self.defaultMaxBody)
        guard maxBody > 0 else {
            throw SettingsError("max body must be a positive number of bytes, got \(maxBody)")
        }
        let replay = turno.int(forKey: "liveReplay", default: 10_000)
        let buffer = turno.int(forKey: "liveClientBuffer", default: 1_000)
        let heartbeat = turno.int(forKey: "liveHeartbeat", default: 15)
        guard replay > 0, buffer > 0, heartbeat > 0 else {
            throw SettingsError("live replay, client buffer and heartbeat must be positive")
        }
        self.init(
            host: host,
            port: port,
            database: database,
            logFormat: logFormat,
            logLevel: turno.string(forKey: "logLevel", default: "info"),
            maxBody: maxBody,
            liveReplayCapacity: replay,
            liveClientBuffer: buffer,
            liveHeartbeatSeconds: heartbeat
        )
    }
}

/// A setting that cannot be used; the message is shown to the person who started the server.
public struct SettingsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
