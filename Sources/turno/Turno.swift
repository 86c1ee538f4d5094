import ArgumentParser
import Configuration
import Foundation
import Logging
import TurnoCore
import TurnoServer

@main
struct Turno: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turno",
        abstract: "Real-time queues, drone dispatch and exercise sessions in one server.",
        subcommands: [Serve.self, Migrate.self, Organization.self, Import.self, AccessMatrix.self, Version.self, Simulate.self, Bench.self, Loadgen.self],
        defaultSubcommand: Serve.self
    )
}

/// Flags shared by the commands that open the database. Each may also come from `TURNO_<FLAG>`.
struct ServerOptions: ParsableArguments {
    @Option(help: "Address to listen on (TURNO_HOST).")
    var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (TURNO_PORT).")
    var port: Int?
    @Option(help: "sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (TURNO_DATABASE; default \(ServerSettings.defaultDatabase)).")
    var database: String?
    @Option(help: "json or text (TURNO_LOG_FORMAT).")
    var logFormat: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (TURNO_LOG_LEVEL).")
    var logLevel: String?
    @Option(help: "Largest request body in bytes (TURNO_MAX_BODY; default 1 MiB).")
    var maxBody: Int?
    @Option(help: "PEM certificate chain, to serve HTTPS directly (TURNO_TLS_CERT).")
    var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert (TURNO_TLS_KEY).")
    var tlsKey: String?
    @Option(help: "Drones to simulate in the first organization's fleet (TURNO_SIMULATE_DRONES; default 0).")
    var simulateDrones: Int?
    @Option(help: "Simulated seconds per real second, e.g. 60 (TURNO_SIM_SPEED; default 1).")
    var simSpeed: Double?

    /// Flags first, then the environment, then the defaults.
    func settings() throws(SettingsError) -> ServerSettings {
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        func set(_ key: String, _ content: ConfigContent?) {
            if let content { flags[AbsoluteConfigKey(["turno", key])] = ConfigValue(content, isSecret: false) }
        }
        set("host", host.map { .string($0) })
        set("port", port.map { .int($0) })
        set("database", database.map { .string($0) })
        set("logFormat", logFormat.map { .string($0) })
        set("logLevel", logLevel.map { .string($0) })
        set("maxBody", maxBody.map { .int($0) })
        set("tlsCert", tlsCert.map { .string($0) })
        set("tlsKey", tlsKey.map { .string($0) })
        set("simulateDrones", simulateDrones.map { .int($0) })
        set("simSpeed", simSpeed.map { .double($0) })
        let reader = ConfigReader(providers: [InMemoryProvider(name: "flags", values: flags), EnvironmentVariablesProvider()])
        return try ServerSettings(config: reader)
    }

    /// Resolves the settings and sets up logging; on a bad setting, prints one line and exits non-zero.
    func prepare() throws -> (ServerSettings, Logger) {
        let settings: ServerSettings
        do {
            settings = try self.settings()
        } catch {
            throw Failure(error.description)
        }
        TurnoLogging.bootstrap(format: settings.logFormat, level: Logger.Level(rawValue: settings.logLevel) ?? .info)
        return (settings, Logger(label: "turno"))
    }
}

/// Stops the command with one clear line on standard error and exit status 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

    static func report(_ error: any Error) -> Failure {
        switch error {
        case let error as DatabaseUnavailable: Failure(error.description)
        case let error as SettingsError: Failure(error.description)
        case let error as Failure: error
        default: Failure("\(error)")
        }
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning any failure into one line on standard error and exit status 1.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            FileHandle.standardError.write(Data("turno: error: \(Failure.report(error).description)\n".utf8))
            throw ExitCode.failure
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the server (the default command).")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        try await reportingFailures {
            let (settings, logger) = try options.prepare()
            try await runServer(settings: settings, logger: logger)
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: ServerOptions

    func run() async throws {
        try await reportingFailures {
            let (settings, logger) = try options.prepare()
            let platform = try await Platform.open(settings: settings, modules: turnoModules, logger: logger)
            await platform.close()
            logger.info("schema of \(settings.database) is up to date")
        }
    }
}

struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("turno \(TurnoVersion.current)")
    }
}
