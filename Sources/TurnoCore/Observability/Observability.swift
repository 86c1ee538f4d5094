import Foundation
import Logging
import Metrics
import Prometheus
import Synchronization

/// The process-wide metrics registry behind `/metrics`. swift-metrics can be bootstrapped once per
/// process, so every server in the process (several in tests) reports into this one registry.
public enum TurnoMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

/// Sets up swift-log once per process: JSON lines or plain text on standard output.
public enum TurnoLogging {
    private static let bootstrapped = Mutex(false)

    public static func bootstrap(format: ServerSettings.LogFormat, level: Logger.Level) {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .json: JSONLogHandler(label: label)
                case .text: StreamLogHandler.standardOutput(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes each log record as one JSON object per line.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        var line =
            #"{"time":\#(JSONCoding.quoted(Timestamp.format(milliseconds: Date().milliseconds))),"level":"\#(event.level)","logger":\#(JSONCoding.quoted(label)),"message":\#(JSONCoding.quoted("\(event.message)"))"#
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += ",\(JSONCoding.quoted(key)):\(JSONCoding.quoted(value))"
        }
        line += "}\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// The version `turno version` prints.
public enum TurnoVersion {
    public static let current = "0.1.0"
}

/// An error as the log shows it: in full (`String(reflecting:)`, not the generic text some drivers give as their
/// description), and a database error without its query, whose bound values may be secret.
public func loggable(_ error: any Error) -> String {
    PostgresEngine.describe(error)
}
