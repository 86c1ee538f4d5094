import Foundation
import Testing
import TurnoCore

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

    func run(_ arguments: [String], environment: [String: String] = [:], timeLimit: Double = 60) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        // Only the settings a test gives: none of the caller's own TURNO_ variables.
        let inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TURNO_") }
        process.environment = inherited.merging(environment) { $1 }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let start = Date()
        try launch(process)
        let watchdog = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: watchdog)
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

    @Test(
        "serve exits non-zero within seconds, with one clear line, when it cannot start",
        arguments: [
            ("sqlite:///proc/turno-cannot-create/data/turno.sqlite", "cannot create the data directory"),
            ("postgres://turno:secret@127.0.0.1:1/turno", "cannot reach PostgreSQL"),
            ("mysql://nowhere", "database must be"),
        ]
    )
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

    @Test(
        "a module's bad setting stops serve with its one line, before the database is touched",
        arguments: [
            ("TURNO_RATE_TICKETS", "bogus", "a rate limit looks like"),
            ("TURNO_SIMULATE_DRONES", "-5", "simulated drones must be between"),
            ("TURNO_SIM_SPEED", "0", "the simulation speed must be between"),
        ]
    )
    func moduleSettingRefused(variable: String, value: String, expected: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("turno-settings-\(UUID().uuidString)")
        let outcome = try run(["serve", "--port", "0", "--database", "sqlite://\(folder.path)/turno.sqlite"], environment: [variable: value])
        #expect(outcome.status != 0)
        #expect(outcome.errors.split(separator: "\n").count == 1 && outcome.errors.hasPrefix("turno: error: ") && outcome.errors.contains(expected))
        #expect(!FileManager.default.fileExists(atPath: folder.path), "nothing was created")
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

    @Test("import sessions stores the good lines, names the bad ones by line, and adds nothing when run again")
    func importSessions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("sessions.csv")
        try #"""
        user_id,sport,started_at,duration_s,distance_m,notes
        u1,run,2026-03-01T07:00:00Z,1800,5000,"easy, with ""strides"""
        u1,swim,2026-03-02T07:00:00Z,1800,100000,too far
        u2,ride,2026-03-03T07:00:00Z,3600,30000,
        u2,run,not-a-time,1800,5000,
        u3,yoga,2026-03-04T07:00:00Z,3600,,

        """#.write(to: file, atomically: true, encoding: .utf8)
        let database = "sqlite://\(directory.path)/turno.sqlite"
        let first = try run(
            ["import", "sessions", file.path, "--organization", "1", "--database", database],
            environment: ["TURNO_ADMIN_PASSWORD": "import-password-1"]
        )
        #expect(first.status == 1, "rejected lines make the exit status 1")
        #expect(first.errors.contains("line 3:") && first.errors.contains("swim") && first.errors.contains("line 5:") && first.errors.contains("started_at"))
        #expect((first.output + first.errors).contains("imported 3, already there 0, rejected 2"))
        let second = try run(["import", "sessions", file.path, "--organization", "1", "--database", database])
        #expect((second.output + second.errors).contains("imported 0, already there 3, rejected 2"))
    }

    @Test("first start creates `admin` with a random password printed once, or the one from TURNO_ADMIN_PASSWORD")
    func firstStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("turno-first-\(UUID().uuidString)")
        let database = "sqlite://\(directory.path)/turno.sqlite"
        let first = try run(["migrate", "--database", database])
        #expect(first.status == 0)
        let line = try #require(first.output.split(separator: "\n").first { $0.contains("Password: ") })
        let password = String(line.split(separator: "Password: ").last!).trimmingCharacters(in: .whitespaces)
        #expect(password.count >= 16)
        let second = try run(["migrate", "--database", database])
        #expect(!second.output.contains("Password: "))
        // The printed password signs in.
        try await withTestServer(at: .sqlite(path: "\(directory.path)/turno.sqlite"), identity: IdentitySettings(bcryptCost: 4)) { server in
            _ = try await StaffClient.login(server, "admin", password)
        }

        let chosen = FileManager.default.temporaryDirectory.appendingPathComponent("turno-first-\(UUID().uuidString)")
        let withPassword = try run(
            ["migrate", "--database", "sqlite://\(chosen.path)/turno.sqlite"],
            environment: ["TURNO_ADMIN_PASSWORD": "chosen-password-123"]
        )
        #expect(withPassword.status == 0)
        #expect(!withPassword.output.contains("Password: ") && !withPassword.output.contains("chosen-password-123"))
        try await withTestServer(at: .sqlite(path: "\(chosen.path)/turno.sqlite"), identity: IdentitySettings(bcryptCost: 4)) { server in
            _ = try await StaffClient.login(server, "admin", "chosen-password-123")
        }

        let tooShort = try run(["migrate", "--database", "sqlite://\(chosen.path)-short/turno.sqlite"], environment: ["TURNO_ADMIN_PASSWORD": "short"])
        #expect(tooShort.status != 0 && tooShort.errors.contains("TURNO_ADMIN_PASSWORD"))
    }

    @Test("serve prints where the kiosk and display are (or how to make them), and SIGTERM stops it at once with status 0")
    func startLogAndStop() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("turno-start-\(UUID().uuidString)")
        let database = "sqlite://\(folder.path)/turno.sqlite"
        let environment = ["TURNO_ADMIN_PASSWORD": "start-log-password"]
        // The test's own watchdog sends SIGTERM after four seconds.
        let empty = try run(["serve", "--port", "0", "--database", database], environment: environment, timeLimit: 4)
        #expect(empty.status == 0 && empty.seconds < 6, "\(empty.errors)")
        let emptyLog = empty.output + empty.errors
        #expect(emptyLog.contains("Kiosk and display: http://127.0.0.1:") && emptyLog.contains("/admin (create a branch there"))
        #expect(!emptyLog.contains("{branch}") && !emptyLog.contains("stopping took more than"))

        // The server stops before serve opens the same database again.
        let publicID = try await withTestServer(at: .sqlite(path: "\(folder.path)/turno.sqlite"), identity: IdentitySettings(bcryptCost: 4)) { server in
            let admin = try await StaffClient.login(server, "admin", "start-log-password")
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"Via Roma"}"#).status == 201)
            return try await server.publicID(ofBranch: 1)
        }
        let withBranch = try run(["serve", "--port", "0", "--database", database], environment: environment, timeLimit: 4)
        let log = withBranch.output + withBranch.errors
        #expect(log.contains("Kiosk · Via Roma: http://127.0.0.1:") && log.contains("/b/\(publicID)/kiosk") && log.contains("/b/\(publicID)/display"))
        #expect(withBranch.status == 0)
    }

    struct LoadgenQueuesReport: Decodable {
        struct Operation: Decodable {
            var name: String
            var requests: Int
            var errors: Int
            var p99Ms: Double?
        }
        struct Push: Decodable {
            var name: String
            var messages: Int
        }
        struct Live: Decodable {
            var peakOpen: Int
            var failed: Int
        }
        var operations: [Operation]
        var push: [Push]
        var live: Live
    }

    struct Dashboard: Decodable {
        struct Queue: Decodable { var servedToday: Int }
        struct Service: Decodable { var arrivalsLastHour: Int }
        var queues: [Queue]
        var services: [Service]
    }

    @Test("loadgen queues sets up its own branch, drives it for its duration, and reports what the server recorded")
    func loadgenQueues() async throws {
        try await withTestServer { server in
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString).json")
            let arguments = [
                // One counter and slow service, so that most customers wait long enough for their page to be open when called.
                "loadgen", "queues", "--url", server.baseURL, "--admin-password", TestServer.adminPassword, "--rate", "10", "--duration", "3",
                "--queues", "1", "--service-seconds", "0.8", "--subscribers", "3", "--source-addresses", "2", "--out", out.path,
            ]
            let outcome = try await runBeside(arguments)
            #expect(outcome.status == 0, "\(outcome.errors)")
            #expect(outcome.output.contains("call-next") && outcome.output.contains("display: ticket.called"))

            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let report = try decoder.decode(LoadgenQueuesReport.self, from: Data(contentsOf: out))
            let operations = Dictionary(uniqueKeysWithValues: report.operations.map { ($0.name, $0) })
            let pushed = Dictionary(uniqueKeysWithValues: report.push.map { ($0.name, $0.messages) })
            // Customers arrive at 0, 0.1 … 2.9 s.
            let issued = try #require(operations["issue"]).requests
            let read = try #require(operations["status read"]).requests
            #expect(issued == 30 && read == 30)
            #expect(report.operations.allSatisfy { $0.errors == 0 && ($0.requests == 0 || $0.p99Ms != nil) })

            let admin = try await StaffClient.admin(server)
            let dashboard = try decoder.decode(Dashboard.self, from: Data(try await admin.call(.GET, "/api/v1/branches/1/dashboard").body.utf8))
            #expect(dashboard.services.map(\.arrivalsLastHour).reduce(0, +) == 30)
            let served = dashboard.queues.map(\.servedToday).reduce(0, +)
            let finished = try #require(operations["finish"]).requests
            #expect(served > 0 && served == finished)
            // Every call reached all three displays. Ticket pages were open beside them, and hear their call only if it
            // comes after they opened (how many do depends on how loaded the machine is, so only the bound is checked).
            let display = try #require(pushed["display: ticket.called"])
            let ticketPage = try #require(pushed["ticket page: ticket.called"])
            #expect(display == 3 * served)
            #expect(ticketPage <= served)
            #expect(report.live.failed == 0 && report.live.peakOpen > 3)
        }
    }

    struct BusyDayReport: Decodable {
        struct Operation: Decodable {
            var name: String
            var requests: Int
            var errors: Int
        }
        var operations: [Operation]
        var firstError: String?
    }

    @Test("a busy day with the default rate limits on: 50 tickets a minute, 8 counters, 20 displays on one address, no 429")
    func busyDayWithinLimits() async throws {
        // The defaults a fresh install has; only the password hashing is cheaper, to sign the operators in quickly.
        try await withTestServer(rateLimits: RateLimits()) { server in
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-\(UUID().uuidString).json")
            let outcome = try await runBeside(
                [
                    "loadgen", "queues", "--url", server.baseURL, "--admin-password", TestServer.adminPassword, "--rate", String(50.0 / 60), "--duration", "60",
                    "--queues", "8", "--subscribers", "20", "--display-reads", "--out", out.path,
                ],
                timeLimit: 120
            )
            #expect(outcome.status == 0, "\(outcome.errors)")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let report = try decoder.decode(BusyDayReport.self, from: Data(contentsOf: out))
            let requests = Dictionary(uniqueKeysWithValues: report.operations.map { ($0.name, $0.requests) })
            // Every customer of the minute got a ticket, and every display re-read the branch on each call it heard.
            #expect(requests["issue"] == 50 && requests["status read"] == 50)
            #expect((requests["call-next"] ?? 0) >= 40 && (requests["display snapshot read"] ?? 0) >= 20 * 30)
            #expect(report.operations.allSatisfy { $0.errors == 0 }, "\(report.firstError ?? "")")
            #expect(!outcome.output.contains("429"))
        }
    }

    /// Runs the command while this process serves it: waits off the cooperative threads.
    func runBeside(_ arguments: [String], timeLimit: Double = 60) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try run(arguments, timeLimit: timeLimit) }) }
        }
    }

    struct FleetReport: Decodable {
        var posted: Int
        var delivered: Int
        var postErrors: Int
        var assignmentP50S: Double?
        var deliveryP99S: Double?
    }

    @Test("loadgen fleet posts deliveries at its rate and reports their assignment and delivery times; simulate flies drones over the API")
    func fleetCommands() async throws {
        try await withTestServer(modules: FleetAPITests.modules()) { server in
            let admin = try await StaffClient.admin(server)
            // Drones flown by `turno simulate` in a process of its own, reporting telemetry like real ones. It flies for
            // 30 s: a full test run on two cores once took 20 s to get four deliveries flown.
            let simulate = Task {
                try await runBeside([
                    "simulate", "--url", server.baseURL, "--password", TestServer.adminPassword, "--drones", "4", "--speed", "300",
                    "--tick", "0.2", "--duration", "30",
                ])
            }
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("loadgen-fleet-\(UUID().uuidString).json")
            // The deliveries start once the simulator has registered its drones.
            try await eventually(timeout: .seconds(30)) {
                try FleetAPITests.decode(FleetAPITests.Drones.self, try await admin.call(.GET, "/api/v1/drones").body).drones.count == 4
            }
            let outcome = try await runBeside([
                "loadgen", "fleet", "--url", server.baseURL, "--password", TestServer.adminPassword, "--rate", "2", "--duration", "2",
                "--drain", "25", "--out", out.path,
            ])
            #expect(outcome.status == 0, "\(outcome.errors)")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let report = try decoder.decode(FleetReport.self, from: Data(contentsOf: out))
            #expect(report.posted == 4 && report.postErrors == 0)
            #expect(report.delivered == 4 && report.assignmentP50S != nil && report.deliveryP99S != nil)
            let simulated = try await simulate.value
            #expect(simulated.status == 0, "\(simulated.errors)")
            let drones = try FleetAPITests.decode(FleetAPITests.Drones.self, try await admin.call(.GET, "/api/v1/drones").body).drones
            #expect(drones.count == 4 && drones.allSatisfy { $0.reportsTelemetry && $0.id.hasPrefix("ext-") })
            // Every delivery was flown by one of them, from its telemetry.
            let deliveries = try FleetAPITests.decode(FleetAPITests.Deliveries.self, try await admin.call(.GET, "/api/v1/deliveries").body).deliveries
            #expect(deliveries.count == 4 && deliveries.allSatisfy { $0.state == .delivered && $0.droneID?.hasPrefix("ext-") == true })
        }
    }
}
