import Foundation

/// Arrivals per half hour of the coming weeks, forecast from a branch's history.
///
/// The method: for each weekday and half hour, the average of the same half hour of the same weekday over the last
/// eight weeks, scaled by the linear trend of the weekly totals (least squares over those weeks, carried forward to
/// the forecast week, within ×0.5 to ×1.5). Days the branch was closed for a special day are left out of the history.
public enum ArrivalForecast {
    public static let slotMinutes = 30
    public static let slotsPerDay = 24 * 60 / slotMinutes
    public static let historyWeeks = 8
    public static let method =
        "same-slot average: each half hour of each weekday averaged over the same half hour of the last 8 weeks, scaled by the linear trend of the weekly totals"

    /// The forecast of each date of `dates` (on or after `start`), per slot, from `history`: counts per slot of past
    /// dates before `start` (dates missing from it are unknown, not zero).
    public static func forecast(history: [LocalDate: [Int]], start: LocalDate, dates: [LocalDate]) -> [LocalDate: [Double]] {
        let factor = trendFactors(history: history, start: start)
        var result: [LocalDate: [Double]] = [:]
        for date in dates {
            let weeksAhead = max(0, (date.daysSinceEpoch - start.daysSinceEpoch) / 7)
            // The same weekday in each of the last weeks before `start`.
            let first = date.adding(days: -7 * (weeksAhead + 1))
            let past = (0..<historyWeeks).map { first.adding(days: -7 * $0) }.compactMap { history[$0] }
            guard !past.isEmpty else {
                result[date] = Array(repeating: 0, count: slotsPerDay)
                continue
            }
            let scale = factor(weeksAhead)
            result[date] = (0..<slotsPerDay).map { slot in
                Double(past.reduce(0) { $0 + ($1.indices.contains(slot) ? $1[slot] : 0) }) / Double(past.count) * scale
            }
        }
        return result
    }

    /// How much the week `weeksAhead` after `start` is forecast to differ from the average of the history's weeks.
    static func trendFactors(history: [LocalDate: [Int]], start: LocalDate) -> (Int) -> Double {
        // x = -k for the week k weeks before `start`; y = its total, scaled up for days missing from the history.
        var points: [(x: Double, y: Double)] = []
        for k in 1...historyWeeks {
            let days = (0..<7).compactMap { history[start.adding(days: -7 * k + $0)] }
            guard days.count >= 4 else { continue }
            let total = days.reduce(0) { $0 + $1.reduce(0, +) }
            points.append((Double(-k), Double(total) * 7 / Double(days.count)))
        }
        guard points.count >= 3 else { return { _ in 1 } }
        let meanX = points.map(\.x).reduce(0, +) / Double(points.count)
        let meanY = points.map(\.y).reduce(0, +) / Double(points.count)
        guard meanY > 0 else { return { _ in 1 } }
        let covariance = points.reduce(0) { $0 + ($1.x - meanX) * ($1.y - meanY) }
        let variance = points.reduce(0) { $0 + ($1.x - meanX) * ($1.x - meanX) }
        let slope = variance > 0 ? covariance / variance : 0
        return { weeksAhead in
            min(1.5, max(0.5, (meanY + slope * (Double(weeksAhead) - meanX)) / meanY))
        }
    }

    /// The mean absolute percentage error of `forecast` against `actual`, over the pairs whose actual is not zero.
    public static func meanAbsolutePercentageError(forecast: [Double], actual: [Int]) -> Double? {
        let pairs = zip(forecast, actual).filter { $0.1 > 0 }
        guard !pairs.isEmpty else { return nil }
        return pairs.reduce(0) { $0 + abs($1.0 - Double($1.1)) / Double($1.1) } / Double(pairs.count)
    }
}

/// How many counters a half hour needs for a share of its customers to be served within the target wait (Erlang C).
public enum Staffing {
    /// The share of customers called within `targetWaitSeconds` with `servers` counters (Erlang C's service level:
    /// 1 − C(c, A)·e^(−(c − A)·T / S)); 0 when the counters cannot keep up.
    public static func serviceLevel(arrivalsPerSecond: Double, serviceSeconds: Double, servers: Int, targetWaitSeconds: Double) -> Double {
        guard let erlang = WaitEstimate.erlangC(arrivalsPerSecond: arrivalsPerSecond, serviceSeconds: serviceSeconds, servers: servers) else { return 0 }
        let load = arrivalsPerSecond * serviceSeconds
        return 1 - erlang.probabilityOfWaiting * exp(-(Double(servers) - load) * targetWaitSeconds / serviceSeconds)
    }

    public static let maximumCounters = 500

    /// The fewest counters that call `level` (0 to 1) of the customers within `targetWaitSeconds`; 0 with no arrivals.
    public static func countersNeeded(arrivalsPerSecond: Double, serviceSeconds: Double, targetWaitSeconds: Double, level: Double) -> Int {
        guard arrivalsPerSecond > 0, serviceSeconds > 0 else { return 0 }
        let load = arrivalsPerSecond * serviceSeconds
        var servers = max(1, Int(load.rounded(.down)) + 1)
        while servers < maximumCounters,
            serviceLevel(arrivalsPerSecond: arrivalsPerSecond, serviceSeconds: serviceSeconds, servers: servers, targetWaitSeconds: targetWaitSeconds) < level
        {
            servers += 1
        }
        return servers
    }
}
