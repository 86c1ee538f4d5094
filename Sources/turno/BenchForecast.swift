import ArgumentParser
import Foundation
import Queues

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
