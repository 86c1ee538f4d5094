import Foundation

/// Made-up arrivals with a known weekly pattern, for measuring the forecast (`turno bench forecast` and the tests):
/// weekdays 08:30–17:00 with a morning peak and a smaller afternoon one, Mondays busier, Saturday mornings, closed
/// Sundays; Poisson noise around the pattern; a steady weekly growth.
public enum SyntheticArrivals {
    public static func isOpen(_ date: LocalDate) -> Bool { date.weekday != .sun }

    /// The expected arrivals of half hour `slot` of `date`, `week` weeks after the history's start.
    public static func expected(_ date: LocalDate, slot: Int, week: Int, growthPerWeek: Double) -> Double {
        let minute = slot * ArrivalForecast.slotMinutes
        let dayFactor: Double =
            switch date.weekday {
            case .mon: 1.3
            case .sat: 0.8
            case .sun: 0
            default: 1
            }
        let open = date.weekday == .sat ? (540..<720).contains(minute) : (510..<1020).contains(minute)
        guard open else { return 0 }
        let hour = Double(minute) / 60
        let shape = 4 + 10 * exp(-pow(hour - 10.5, 2) / 2) + 6 * exp(-pow(hour - 15, 2) / 1.5)
        return 2 * shape * dayFactor * pow(1 + growthPerWeek, Double(week))
    }

    /// A Poisson draw of mean `mean` (Knuth's method: fine for the small means of a half hour).
    public static func poisson(_ mean: Double, random: inout some RandomNumberGenerator) -> Int {
        guard mean > 0 else { return 0 }
        let limit = exp(-mean)
        var product = Double.random(in: 0..<1, using: &random)
        var count = 0
        while product > limit {
            count += 1
            product *= Double.random(in: 0..<1, using: &random)
        }
        return count
    }

    /// `weeks` weeks of arrivals per half hour from `start`.
    public static func history(weeks: Int, start: LocalDate, growthPerWeek: Double, random: inout some RandomNumberGenerator) -> [LocalDate: [Int]] {
        var result: [LocalDate: [Int]] = [:]
        for day in 0..<(weeks * 7) {
            let date = start.adding(days: day)
            result[date] = (0..<ArrivalForecast.slotsPerDay).map {
                poisson(expected(date, slot: $0, week: day / 7, growthPerWeek: growthPerWeek), random: &random)
            }
        }
        return result
    }
}
