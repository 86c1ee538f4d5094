import Configuration
import Testing

@testable import TurnoCore

@Suite("Settings")
struct SettingsTests {
    func settings(_ environment: [String: String]) throws(SettingsError) -> ServerSettings {
        try ServerSettings(config: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)))
    }

    @Test("defaults: loopback, 8080, SQLite under ./data, 1 MiB bodies")
    func defaults() throws {
        let defaults = try settings([:])
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.port == 8080)
        #expect(defaults.database == .sqlite(path: "./data/turno.sqlite"))
        #expect(defaults.maxBody == 1 << 20)
        #expect(defaults.logFormat == .text)
    }

    @Test("every flag can come from a TURNO_ environment variable")
    func environment() throws {
        let read = try settings([
            "TURNO_HOST": "0.0.0.0", "TURNO_PORT": "9000", "TURNO_DATABASE": "postgres://app:s%40cret@db.local:6543/turno",
            "TURNO_LOG_FORMAT": "json", "TURNO_MAX_BODY": "2048",
        ])
        #expect(read.host == "0.0.0.0")
        #expect(read.port == 9000)
        #expect(read.logFormat == .json)
        #expect(read.maxBody == 2048)
        guard case .postgres(let location) = read.database else {
            Issue.record("expected PostgreSQL")
            return
        }
        #expect(location.host == "db.local")
        #expect(location.port == 6543)
        #expect(location.username == "app")
        #expect(location.password == "s@cret")
        #expect(location.database == "turno")
        #expect(!read.database.description.contains("s@cret"))
    }

    @Test(
        "unusable values are refused with a clear message",
        arguments: [
            ["TURNO_PORT": "70000"], ["TURNO_DATABASE": "mysql://x"], ["TURNO_LOG_FORMAT": "xml"],
            ["TURNO_MAX_BODY": "0"], ["TURNO_DATABASE": "postgres:///nohost"], ["TURNO_DATABASE": "sqlite://"],
        ]
    )
    func refused(environment: [String: String]) {
        #expect(throws: SettingsError.self) { try settings(environment) }
    }
}
