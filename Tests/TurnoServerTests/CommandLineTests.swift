import Foundation
import Testing

/// Runs the built `turno` binary the way a person would.
@Suite("The turno command line")
struct CommandLineTests {
    static var binary: URL {
        let directory = Bundle.main.executableURL?.deletingLastPathComponent() ?? URL(fileURLWithPath: ".build/debug")
        return directory.appendingPathComponent("turno")
    }

    struct Outcome {
        let status: Int32
        let output: String
        let errors: String
        let seconds: Double
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let start = Date()
        try process.run()
        let watchdog = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        process.waitUntilExit()
        watchdog.cancel()
        return Outcome(
            status: process.terminationStatus,
            output: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            errors: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            seconds: Date().timeIntervalSince(start)
        )
    }

    @Test("turno version prints the version")
    func version() throws {
        let outcome = try run(["version"])
        #expect(outcome.status == 0)
        #expect(outcome.output.hasPrefix("turno "))
    }

    @Test("serve exits non-zero within seconds, with one clear line, when it cannot start", arguments: [
        ("sqlite:///proc/turno-cannot-create/data/turno.sqlite", "cannot create the data directory"),
        ("postgres://turno:secret@127.0.0.1:1/turno", "cannot reach PostgreSQL"),
        ("mysql://nowhere", "database must be"),
    ])
    func failsClearly(database: String, expected: String) throws {
        let outcome = try run(["serve", "--port", "0", "--database", database])
        #expect(outcome.status != 0)
        #expect(outcome.seconds < 15)
        let lines = outcome.errors.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("turno: error: ") == true)
        #expect(outcome.errors.contains(expected))
        #expect(!outcome.errors.contains("secret"))
    }

    @Test("flags fall back to TURNO_ environment variables")
    func environmentFallback() throws {
        let outcome = try run(["migrate"], environment: ["TURNO_DATABASE": "sqlite:///proc/turno-env-path/x.sqlite"])
        #expect(outcome.status != 0)
        #expect(outcome.errors.contains("/proc/turno-env-path"))
    }

    @Test("migrate creates the data directory and the schema, and is safe to repeat")
    func migrate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-cli-\(UUID().uuidString)")
        let database = "sqlite://\(directory.path)/nested/turno.sqlite"
        let first = try run(["migrate", "--database", database])
        #expect(first.status == 0)
        #expect(first.output.contains("applied migration"))
        let second = try run(["migrate", "--database", database])
        #expect(second.status == 0)
        #expect(!second.output.contains("applied migration"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("nested/turno.sqlite").path))
    }
}
