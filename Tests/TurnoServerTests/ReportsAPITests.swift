import Foundation
import Testing
import TurnoCore

@testable import Queues

@Suite("Reports API: figures per day, service, counter and staff member, as JSON, CSV and PDF")
struct ReportsAPITests {
    struct Row: Decodable, Equatable {
        let key: String
        let label: String
        let issued: Int?
        let served: Int
        let no_shows: Int
        let cancelled: Int
        let transfers: Int
        let abandonment_rate: Double?
        let no_show_rate: Double?
        let wait_p50_s: Int?
        let wait_p90_s: Int?
        let wait_max_s: Int?
        let within_target_share: Double?
        let service_p50_s: Int?
        let service_p90_s: Int?
        let utilisation: Double?
        let open_s: Int?
        let idle_s: Int?
        let rating_count: Int
        let rating_mean: Double?
        let rating_distribution: [Int]
        let complaints: Int
    }

    struct Report: Decodable {
        struct Branch: Decodable {
            let id: Int64
            let name: String
        }

        let from: String
        let to: String
        let group: String
        let branches: [Branch]
        let rows: [Row]
        let total: Row
    }

    /// A morning at branch 1: two operators; one serves a ticket, one serves another after a transfer, one customer
    /// does not come, one gives up. Returns the operators' ids and clients and the admin.
    static func morning(_ server: TestServer, clock: ManualClock) async throws -> (admin: StaffClient, ola: (Int64, StaffClient), ugo: (Int64, StaffClient)) {
        let admin = try await QueueAPITests.setUp(server)
        let ola = try await admin.createUser("ola", role: .operator, branches: [1])
        let ugo = try await admin.createUser("ugo", role: .operator, branches: [1])
        // Ola signs in at counter 1 and Ugo at counter 2: their open time starts now.
        for (client, queue) in [(ola.client, 1), (ugo.client, 2)] {
            #expect(try await client.call(.POST, "/api/v1/queues/\(queue)/pause").status == 200)
            #expect(try await client.call(.POST, "/api/v1/queues/\(queue)/open").status == 200)
        }
        let first = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
        let second = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
        let third = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
        let fourth = try #require(try await QueueAPITests.issue(server, service: 2).ticket)
        #expect(Set([first.queue, second.queue]) == [1, 2])
        clock.advance(by: .seconds(60))
        // Ola: the first ticket at counter 1, waited 60 s, served in 120 s.
        let atOla = first.queue == 1 ? first : second
        let atUgo = first.queue == 1 ? second : first
        #expect(try await ola.client.call(.POST, "/api/v1/tickets/\(atOla.id)/transfer", json: #"{"service":2}"#).status == 200)
        // Transferred to Bills, which only counter 1 serves, and Bills goes first: Ola calls it again.
        let called = try decodeJSON(QueueAPITests.Acted.self, try await ola.client.call(.POST, "/api/v1/queues/1/call-next").body)
        #expect(called.id == atOla.id)
        #expect(try await ola.client.call(.POST, "/api/v1/tickets/\(atOla.id)/start").status == 200)
        clock.advance(by: .seconds(120))
        #expect(try await ola.client.call(.POST, "/api/v1/tickets/\(atOla.id)/finish").status == 200)
        // Ugo: waited 180 s, served in 30 s.
        let ugoCalled = try decodeJSON(QueueAPITests.Acted.self, try await ugo.client.call(.POST, "/api/v1/queues/2/call-next").body)
        #expect(ugoCalled.id == atUgo.id)
        #expect(try await ugo.client.call(.POST, "/api/v1/tickets/\(atUgo.id)/start").status == 200)
        clock.advance(by: .seconds(30))
        #expect(try await ugo.client.call(.POST, "/api/v1/tickets/\(atUgo.id)/finish").status == 200)
        // The customer of the Bills ticket gives up; Ugo calls the third at counter 1, after 210 s: not there.
        #expect(try await server.request(.DELETE, "/api/v1/tickets/\(fourth.token)").status == 200)
        #expect(third.queue == 1)
        let noShow = try decodeJSON(QueueAPITests.Acted.self, try await ugo.client.call(.POST, "/api/v1/queues/1/call-next").body)
        #expect(noShow.id == third.id)
        #expect(try await ugo.client.call(.POST, "/api/v1/tickets/\(noShow.id)/no-show").status == 200)
        // Both served customers rate.
        let json = [("Content-Type", "application/json")]
        #expect(try await server.request(.POST, "/api/v1/tickets/\(atOla.token)/rating", body: #"{"rating":5}"#, headers: json).status == 204)
        #expect(try await server.request(.POST, "/api/v1/tickets/\(atUgo.token)/rating", body: #"{"rating":2}"#, headers: json).status == 204)
        clock.advance(by: .seconds(90))
        // Both sign out: Ola was open 300 s, Ugo 300 s.
        #expect(try await ola.client.call(.POST, "/api/v1/queues/1/pause").status == 200)
        #expect(try await ugo.client.call(.POST, "/api/v1/queues/2/pause").status == 200)
        return (admin, ola, ugo)
    }

    @Test("a morning's figures by staff member, service and counter, and the total", arguments: TestDatabase.available)
    func figures(database: TestDatabase) async throws {
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        try await withTestServer(database, clock: clock) { server in
            let (admin, ola, ugo) = try await Self.morning(server, clock: clock)
            let byOperator = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1&group=operator").body)
            #expect(byOperator.group == "operator" && byOperator.branches.map(\.name) == ["Centre"])
            #expect(byOperator.rows.map(\.label) == ["ola", "ugo"])
            let olaRow = byOperator.rows[0]
            let ugoRow = byOperator.rows[1]
            #expect(olaRow.key == String(ola.0) && ugoRow.key == String(ugo.0))
            #expect(olaRow.issued == nil && olaRow.served == 1 && olaRow.no_shows == 0 && olaRow.transfers == 1)
            #expect(olaRow.wait_p50_s == 60 && olaRow.service_p50_s == 120 && olaRow.rating_mean == 5)
            #expect(olaRow.open_s == 300 && olaRow.idle_s == 180 && olaRow.utilisation == 0.4)
            #expect(ugoRow.served == 1 && ugoRow.no_shows == 1 && ugoRow.no_show_rate == 0.5 && ugoRow.transfers == 0)
            #expect(ugoRow.wait_p50_s == 180 && ugoRow.wait_p90_s == 210 && ugoRow.service_p50_s == 30 && ugoRow.rating_distribution == [0, 1, 0, 0, 0])
            #expect(ugoRow.open_s == 300 && ugoRow.idle_s == 270)

            let total = byOperator.total
            #expect(total.issued == 4 && total.served == 2 && total.no_shows == 1 && total.cancelled == 1 && total.transfers == 1)
            #expect(total.abandonment_rate == 0.25 && total.rating_count == 2 && total.rating_mean == 3.5 && total.rating_distribution == [0, 1, 0, 0, 1])
            #expect(total.wait_max_s == 210 && total.open_s == 600)

            let byService = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1&group=service").body)
            #expect(byService.rows.map(\.label) == ["Bills", "Parcels"])
            // Bills: issued one (given up), took one by transfer that was served; Parcels: issued three, one transferred away.
            #expect(byService.rows[0].issued == 1 && byService.rows[0].served == 1 && byService.rows[0].cancelled == 1 && byService.rows[0].transfers == 0)
            #expect(byService.rows[1].issued == 3 && byService.rows[1].served == 1 && byService.rows[1].no_shows == 1 && byService.rows[1].transfers == 1)
            #expect(byService.rows[1].open_s == nil && byService.rows[1].utilisation == nil)

            let byCounter = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1&group=counter").body)
            #expect(byCounter.rows.map(\.label) == ["1", "2"] && byCounter.rows.map(\.served) == [1, 1] && byCounter.rows.map(\.open_s) == [300, 300])
            #expect(byCounter.rows.map(\.no_shows) == [1, 0] && byCounter.rows.map(\.transfers) == [1, 0])

            let byDay = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1").body)
            #expect(byDay.rows.count == 1 && byDay.rows[0].key == byDay.from && byDay.rows[0].served == 2)
            let byHour = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1&group=hour").body)
            #expect(byHour.rows.map(\.issued).reduce(0) { $0 + ($1 ?? 0) } == 4)
            let week = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?group=weekday&from=\(byDay.from)&to=\(byDay.from)").body)
            #expect(week.rows.map(\.key) == ["1", "2", "3", "4", "5", "6", "7"] && week.rows.map(\.served).reduce(0, +) == 2)

            // Each operator reads their own figures, and no one else's.
            let own = try decodeJSON(Report.self, try await ola.1.call(.GET, "/api/v1/me/report?group=operator").body)
            #expect(own.rows.map(\.key) == [String(ola.0)] && own.total.served == 1 && own.total.transfers == 1)
            let ownDays = try decodeJSON(Report.self, try await ugo.1.call(.GET, "/api/v1/me/report").body)
            #expect(ownDays.total.served == 1 && ownDays.total.no_shows == 1 && ownDays.rows.map(\.served) == [1])
            #expect(try await ola.1.call(.GET, "/api/v1/me/report?operator=\(ugo.0)").status == 403)
            #expect(try await ola.1.call(.GET, "/api/v1/reports?branch=1").status == 403)
            // A manager reads one operator's figures.
            let (_, manager) = try await admin.createUser("mara", role: .manager, branches: [1])
            let ugoDays = try decodeJSON(Report.self, try await manager.call(.GET, "/api/v1/reports?operator=\(ugo.0)").body)
            #expect(ugoDays.total.served == 1 && ugoDays.total.no_shows == 1 && ugoDays.total.issued == nil)
            // A counter open now counts its time up to now.
            #expect(try await ola.1.call(.POST, "/api/v1/queues/1/open").status == 200)
            clock.advance(by: .seconds(100))
            let open = try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports?branch=1&group=operator").body)
            #expect(open.rows.map(\.open_s) == [400, 300] && open.total.open_s == 700)
            #expect(try decodeJSON(Report.self, try await ola.1.call(.GET, "/api/v1/me/report").body).total.open_s == 400)
        }
    }

    @Test("ticket events count once, whichever nodes count them and however many reports ask at once", arguments: TestDatabase.available)
    func countedOnce(database: TestDatabase) async throws {
        try await withTwoNodes(database) { nodeA, nodeB in
            let admin = try await QueueAPITests.setUp(nodeA)
            let adminB = try await StaffClient.admin(nodeB)
            let branch = try await nodeA.publicID(ofBranch: 1)
            // Tickets taken on both nodes while reports are read on both: every read counts what has committed.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        let node = index % 2 == 0 ? nodeA : nodeB
                        let body = #"{"service":\#(index % 2 + 1)}"#
                        // Generous timeouts, as in the other concurrency tests: the whole suite shares two cores.
                        let response = try await node.request(
                            .POST,
                            "/api/v1/branches/\(branch)/tickets",
                            body: body,
                            headers: [("Content-Type", "application/json")],
                            timeout: 120
                        )
                        #expect(response.status == 201)
                    }
                    if index % 10 == 0 {
                        group.addTask { _ = try await (index % 20 == 0 ? admin : adminB).call(.GET, "/api/v1/reports?branch=1", timeout: 120) }
                    }
                }
                try await group.waitForAll()
            }
            let reads = try await withThrowingTaskGroup(of: Report.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let client = index % 2 == 0 ? admin : adminB
                        return try decodeJSON(Report.self, try await client.call(.GET, "/api/v1/reports?branch=1&group=service", timeout: 120).body)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for report in reads {
                #expect(report.total.issued == 60 && report.rows.map(\.issued) == [30, 30])
            }
        }
    }

    @Test("CSV and PDF carry the same figures")
    func exports() async throws {
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        try await withTestServer(clock: clock) { server in
            let (admin, _, _) = try await Self.morning(server, clock: clock)
            let csv = try await admin.call(.GET, "/api/v1/reports.csv?branch=1&group=operator")
            #expect(csv.status == 200 && csv.headers["Content-Type"].first == "text/csv; charset=utf-8")
            let lines = csv.body.split(separator: "\r\n").map(String.init)
            #expect(lines.first?.hasPrefix("key,label,issued,served,no_shows,cancelled,expired,transfers,") == true)
            #expect(lines.count == 4 && lines[1].contains(",ola,,1,0,0,0,1,") && lines[3].hasPrefix("total,Total,4,2,1,1,0,1,"))
            let negotiated = try await admin.call(.GET, "/api/v1/reports?branch=1&group=operator", headers: [("Accept", "text/csv")])
            #expect(negotiated.body == csv.body)

            let pdf = try await server.requestBytes(
                .GET,
                "/api/v1/reports.pdf?branch=1&group=operator",
                headers: [("Authorization", "Bearer \(admin.accessToken)")]
            )
            #expect(pdf.status == 200 && pdf.headers["Content-Type"].first == "application/pdf")
            #expect(pdf.body.starts(with: Array("%PDF-1.7".utf8)))
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).pdf")
            try Data(pdf.body).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let info = try run("/usr/bin/pdfinfo", [file.path])
            #expect(info.contains("Pages:           1") && info.contains("A4"))
            let text = try run("/usr/bin/pdftotext", ["-layout", file.path, "-"])
            #expect(text.contains("Report · Centre") && text.contains("by staff member"))
            // The table: Ola served one after a 1:00 wait, in 2:00; Ugo served one and had a no-show.
            let olaLine = try #require(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.last { $0.hasPrefix("ola ") })
            #expect(olaLine.split(separator: " ").map(String.init) == ["ola", "–", "1", "0", "0", "1:00", "1:00", "100", "%", "2:00", "40", "%", "5.0"])
            #expect(text.contains("Total"))
        }
    }

    @Test("in Italian for an Italian branch")
    func italianPDF() async throws {
        let clock = ManualClock(nowMs: SystemClock().nowMilliseconds())
        try await withTestServer(clock: clock) { server in
            let (admin, _, _) = try await Self.morning(server, clock: clock)
            #expect(try await admin.call(.PATCH, "/api/v1/branches/1", json: #"{"language":"it"}"#).status == 200)
            let pdf = try await server.requestBytes(
                .GET,
                "/api/v1/reports.pdf?branch=1&group=weekday",
                headers: [("Authorization", "Bearer \(admin.accessToken)")]
            )
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString).pdf")
            try Data(pdf.body).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let text = try run("/usr/bin/pdftotext", ["-layout", file.path, "-"])
            #expect(text.contains("Rapporto · Centre") && text.contains("per giorno della settimana") && text.contains("lunedì") && text.contains("Serviti"))
            #expect(text.contains("3,5"))
        }
    }

    @Test("who may read which reports, and bad requests", arguments: TestDatabase.available)
    func accessAndBadInput(database: TestDatabase) async throws {
        try await withTestServer(database) { server in
            let admin = try await QueueAPITests.setUp(server)
            #expect(try await admin.call(.POST, "/api/v1/branches", json: #"{"name":"North"}"#).status == 201)
            let (_, manager) = try await admin.createUser("mara", role: .manager, branches: [1])
            let (_, reception) = try await admin.createUser("rita", role: .reception, branches: [1])
            let mine = try decodeJSON(Report.self, try await manager.call(.GET, "/api/v1/reports").body)
            #expect(mine.branches.map(\.id) == [1])
            #expect(try decodeJSON(Report.self, try await admin.call(.GET, "/api/v1/reports").body).branches.map(\.id) == [1, 2])
            #expect(try await manager.call(.GET, "/api/v1/reports?branch=2").status == 403)
            #expect(try await reception.call(.GET, "/api/v1/reports").status == 403)
            #expect(try await reception.call(.GET, "/api/v1/me/report").status == 200)
            // Another organization's branch does not exist for this one's staff.
            _ = try await server.platform.identity.createOrganization(name: "Other", adminUsername: "other", adminPassword: "other-password-1")
            let other = try await StaffClient.login(server, "other", "other-password-1")
            #expect(try await other.call(.GET, "/api/v1/reports?branch=1").status == 404)
            #expect(try decodeJSON(Report.self, try await other.call(.GET, "/api/v1/reports").body).branches.isEmpty)
            let key = try await admin.createAPIKey(scopes: ["tickets:issue"])
            #expect(try await server.request(.GET, "/api/v1/me/report", headers: [("Authorization", "Bearer \(key)")]).status == 403)

            let bad: [(String, String)] = [
                ("from=2024-01-01&to=2026-12-31", "at most 731 days"),
                ("from=2026-03-02&to=2026-03-01", "is after"),
                ("from=2026-02-30", "must be a date"),
                ("group=month", "is not a grouping"),
                ("operator=999", "no staff member 999"),
                ("operator=1&group=service", "grouped by day, weekday or operator"),
                ("branch=abc", "positive whole number"),
            ]
            for (query, detail) in bad {
                let response = try await admin.call(.GET, "/api/v1/reports?\(query)")
                #expect(response.status == 400 && response.body.contains(detail), "\(query): \(response.body)")
                #expect(response.headers["Content-Type"].first == "application/problem+json")
            }
            #expect(try await other.call(.GET, "/api/v1/reports?operator=1").status == 400)
        }
    }

    private func run(_ tool: String, _ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw SettingsError("\(tool) is missing: install poppler-utils") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try launch(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(tool) \(arguments) exited with \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }
}
