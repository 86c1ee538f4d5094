import ArgumentParser
import Foundation
import NIOHTTP1
import Queues
import TurnoServer

/// The forecast's error on held-out weeks of generated history with a known weekly pattern, Poisson noise and a
/// trend: per day and per half hour, against what happened and against the pattern itself.
struct BenchForecast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Forecast error (MAPE) per day and per half hour on held-out weeks of generated history."
    )

    @Option(help: "Generated histories (each with its own noise).")
    var runs = 50
    @Option(help: "Weekly growth of the arrivals, as a fraction (0.01: 1% a week).")
    var growth = 0.01
    @Option(help: "Held-out weeks forecast after the eight of history.")
    var heldOut = 2
    @Option(help: "Requests timed per route against a server with eight weeks of generated tickets (0: none).")
    var requests = 20
    @Option(help: "Database for the timed requests (default: a new SQLite file in a temporary folder).")
    var database: String?

    /// SplitMix64, so that a run can be repeated.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func run() async throws {
        measureError()
        if requests > 0 { try await measureRoutes() }
    }

    /// Times `GET …/forecast` and `GET …/staffing` on a branch with eight weeks of generated tickets and a week of shifts.
    func measureRoutes() async throws {
        let server = try await InProcessServer.start(database: database, modules: turnoModules)
        let api = APIClient(base: server.url)
        do {
            try await api.signIn(username: "admin", password: BenchReports.password)
            let branch = try await api.post("/api/v1/branches", ["name": "Forecast", "time_zone": "Europe/Rome"])["id"] as! Int
            var services: [Int64] = []
            for (name, prefix) in [("Parcels", "A"), ("Bills", "B")] {
                services.append(Int64(try await api.post("/api/v1/branches/\(branch)/services", ["name": name, "prefix": prefix])["id"] as! Int))
            }
            var queues: [Int] = []
            for counter in 1...6 {
                queues.append(
                    try await api.post("/api/v1/branches/\(branch)/queues", ["name": "Desk \(counter)", "counter": "\(counter)", "services": services])["id"]
                        as! Int
                )
            }
            let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
            let today = LocalDate(ofMilliseconds: nowMs, timeZone: "Europe/Rome")
            var random = Seeded(state: 42)
            let history = SyntheticArrivals.history(weeks: ArrivalForecast.historyWeeks, start: today.adding(days: -56), growthPerWeek: growth, random: &random)
            try await SyntheticArrivals.write(
                history,
                store: QueueStore(storage: server.platform.storage),
                branchID: Int64(branch),
                serviceIDs: services,
                timeZone: "Europe/Rome",
                serviceSeconds: 300
            )
            let template =
                try await api.post(
                    "/api/v1/branches/\(branch)/shift-templates",
                    ["name": "Day", "from": "08:30", "to": "17:00", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"]]
                )["id"] as! Int
            for (index, queue) in queues.prefix(4).enumerated() {
                let user = ["username": "clerk-\(index)", "password": "clerk-password-\(index)", "role": "operator", "branch_ids": [branch]] as [String: Any]
                let userID = try await api.post("/api/v1/users", user)["id"] as! Int
                _ = try await api.post(
                    "/api/v1/branches/\(branch)/shift-assignments",
                    ["template_id": template, "user_id": userID, "queue_id": queue, "first_date": today.description]
                )
            }
            let tickets = history.values.reduce(0) { $0 + $1.reduce(0, +) }
            print("timed routes: \(tickets) tickets over eight weeks, \(services.count) services, shifts at 4 counters")
            for (name, path) in [
                ("forecast, 1 week", "/api/v1/branches/\(branch)/forecast"),
                ("forecast, 4 weeks", "/api/v1/branches/\(branch)/forecast?weeks=4"),
                ("staffing, 1 week", "/api/v1/branches/\(branch)/staffing"),
                ("staffing, 4 weeks", "/api/v1/branches/\(branch)/staffing?weeks=4"),
                ("schedule, 1 week", "/api/v1/branches/\(branch)/schedule"),
            ] {
                for _ in 0..<3 { _ = try await api.send(.GET, path) }
                var samples: [Double] = []
                for _ in 0..<requests {
                    let start = ContinuousClock.now
                    _ = try await api.send(.GET, path)
                    samples.append(Double((ContinuousClock.now - start).nanoseconds) / 1e6)
                }
                samples.sort()
                let p99 = samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))]
                print("  \(name): p50 \(String(format: "%.1f", samples[samples.count / 2])) ms, p99 \(String(format: "%.1f", p99)) ms")
            }
        } catch {
            try? await api.shutdown()
            await server.stop()
            throw error
        }
        try await api.shutdown()
        await server.stop()
    }

    func measureError() {
        let origin = LocalDate("2026-09-07")!
        let start = origin.adding(days: 7 * ArrivalForecast.historyWeeks)
        var dayErrors: [Double] = []
        var dayErrorsAgainstPattern: [Double] = []
        var slotErrors: [Int: [Double]] = [:]
        // What a forecast that knew the pattern exactly would miss by: the noise alone.
        var slotFloor: [Int: [Double]] = [:]
        var worstDay = (error: 0.0, date: "")
        for run in 0..<runs {
            var random = Seeded(state: UInt64(run) &* 7_919)
            let history = SyntheticArrivals.history(weeks: ArrivalForecast.historyWeeks + heldOut, start: origin, growthPerWeek: growth, random: &random)
            let dates = (0..<(7 * heldOut)).map { start.adding(days: $0) }.filter(SyntheticArrivals.isOpen)
            let forecast = ArrivalForecast.forecast(history: history.filter { $0.key < start }, start: start, dates: dates)
            for date in dates {
                let predicted = forecast[date]!
                let actual = history[date]!
                let week = (date.daysSinceEpoch - origin.daysSinceEpoch) / 7
                let truth = (0..<ArrivalForecast.slotsPerDay).reduce(0.0) { $0 + SyntheticArrivals.expected(date, slot: $1, week: week, growthPerWeek: growth) }
                let error = abs(predicted.reduce(0, +) - Double(actual.reduce(0, +))) / Double(actual.reduce(0, +))
                dayErrors.append(error)
                dayErrorsAgainstPattern.append(abs(predicted.reduce(0, +) - truth) / truth)
                if error > worstDay.error {
                    worstDay = (
                        error,
                        "\(date) (\(date.weekday.rawValue)): forecast \(Int(predicted.reduce(0, +).rounded())), actual \(actual.reduce(0, +)), pattern \(Int(truth.rounded()))"
                    )
                }
                guard date.weekday != .sat else { continue }
                for slot in 0..<ArrivalForecast.slotsPerDay where actual[slot] > 0 {
                    slotErrors[slot, default: []].append(abs(predicted[slot] - Double(actual[slot])) / Double(actual[slot]))
                    let perfect = SyntheticArrivals.expected(date, slot: slot, week: week, growthPerWeek: growth)
                    slotFloor[slot, default: []].append(abs(perfect - Double(actual[slot])) / Double(actual[slot]))
                }
            }
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        print("method: \(ArrivalForecast.method)")
        print("\(runs) histories of \(ArrivalForecast.historyWeeks) weeks, \(String(format: "%.1f%%", growth * 100)) growth a week; \(heldOut) held-out weeks")
        print("daily MAPE against what happened: \(percent(mean(dayErrors))) (worst day \(percent(worstDay.error)), \(worstDay.date))")
        print("daily MAPE against the pattern itself (no noise): \(percent(mean(dayErrorsAgainstPattern)))")
        print("per half hour, weekdays: MAPE against what happened | a perfect forecast's (the noise alone) | mean arrivals")
        for slot in slotErrors.keys.sorted() where slotErrors[slot]!.count > runs {
            let time = TimeOfDay(minutes: slot * ArrivalForecast.slotMinutes)!
            let expected = SyntheticArrivals.expected(start.adding(days: 1), slot: slot, week: ArrivalForecast.historyWeeks, growthPerWeek: growth)
            print("  \(time) | \(percent(mean(slotErrors[slot]!))) | \(percent(mean(slotFloor[slot]!))) | \(String(format: "%.1f", expected))")
        }
    }
}
