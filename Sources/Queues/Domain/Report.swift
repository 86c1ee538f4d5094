import Foundation

/// How a report splits its range into rows.
public enum ReportGrouping: String, Sendable, Codable, CaseIterable {
    case day, hour, weekday, service, counter, `operator`

    /// The cells the rows are added up from: days (and weekdays) from the whole-branch cells, the others from their
    /// own dimension.
    public var dimension: ReportDimension {
        switch self {
        case .day, .weekday: .all
        case .hour: .hour
        case .service: .service
        case .counter: .queue
        case .operator: .user
        }
    }

    /// Whether the rows need each day's cells (months would merge the days they are made of).
    public var needsDays: Bool { self == .day || self == .weekday }

    /// The row of a cell read by day (its day) or by member (its member's id, or hour): the day itself, its ISO
    /// weekday (1 = Monday), or the member.
    public func rowKey(cellKey: String) -> String {
        self == .weekday ? String(CalendarDays.isoWeekday(of: cellKey) ?? 0) : cellKey
    }
}

/// One row of a report: the added-up figures of its cells and what is worked out from them.
public struct ReportSummary: Sendable, Equatable {
    public var issued: Int
    public var served: Int
    public var noShows: Int
    public var cancelled: Int
    public var expired: Int
    public var transfers: Int
    /// Cancelled and expired tickets among those that ended; nil when none ended.
    public var abandonmentRate: Double?
    /// No-shows among the tickets called to a counter that ended there (served or no-show).
    public var noShowRate: Double?
    public var waitP50Seconds: Int64?
    public var waitP90Seconds: Int64?
    public var waitMaxSeconds: Int64?
    public var withinTargetShare: Double?
    public var serviceP50Seconds: Int64?
    public var serviceP90Seconds: Int64?
    public var serviceMaxSeconds: Int64?
    /// Time serving over time open; nil where no counter was open (and for rows by hour or service, which keep no
    /// open time).
    public var utilisation: Double?
    public var openSeconds: Int64
    /// Open time not spent serving: the idle time between calls.
    public var idleSeconds: Int64?
    public var ratingCount: Int
    public var ratingMean: Double?
    /// How many ratings gave 1 … 5 stars.
    public var ratingDistribution: [Int]
    public var complaints: Int

    public init(_ figures: ReportFigures) {
        issued = figures.issued
        served = figures.served
        noShows = figures.noShows
        cancelled = figures.cancelled
        expired = figures.expired
        transfers = figures.transfers
        let ended = figures.served + figures.noShows + figures.cancelled + figures.expired
        abandonmentRate = ended > 0 ? Double(figures.cancelled + figures.expired) / Double(ended) : nil
        noShowRate = figures.served + figures.noShows > 0 ? Double(figures.noShows) / Double(figures.served + figures.noShows) : nil
        (waitP50Seconds, waitP90Seconds) = Self.medianAnd90th(of: figures.waitBuckets)
        waitMaxSeconds = figures.waited > 0 ? figures.waitMaxMs / 1000 : nil
        withinTargetShare = figures.waited > 0 ? Double(figures.withinTarget) / Double(figures.waited) : nil
        (serviceP50Seconds, serviceP90Seconds) = Self.medianAnd90th(of: figures.serviceBuckets)
        serviceMaxSeconds = figures.served > 0 ? figures.serviceMaxMs / 1000 : nil
        openSeconds = figures.openMs / 1000
        utilisation = figures.openMs > 0 ? Double(figures.serviceSumMs) / Double(figures.openMs) : nil
        idleSeconds = figures.openMs > 0 ? max(figures.openMs - figures.serviceSumMs, 0) / 1000 : nil
        ratingCount = figures.ratings.reduce(0, +)
        let stars = figures.ratings.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element }
        ratingMean = ratingCount > 0 ? Double(stars) / Double(ratingCount) : nil
        ratingDistribution = figures.ratings
        complaints = figures.complaints
    }

    /// The nearest-rank percentiles `ps` (ascending) of the durations counted in `buckets`: the lower bound, in
    /// seconds, of the bucket the ⌈p·n⌉-th smallest falls in; nil when there are none. One pass for all of them.
    public static func percentiles(_ ps: [Double], of buckets: [Int: Int]) -> [Int64?] {
        let count = buckets.values.reduce(0, +)
        guard count > 0 else { return ps.map { _ in nil } }
        var results: [Int64?] = []
        var seen = 0
        var sorted = buckets.sorted { $0.key < $1.key }.makeIterator()
        var current: (key: Int, value: Int)?
        for p in ps {
            let rank = max(Int((p * Double(count)).rounded(.up)), 1)
            while seen < rank, let next = sorted.next() {
                seen += next.value
                current = next
            }
            results.append(current.map { DurationBuckets.lowerBoundSeconds(of: $0.key) })
        }
        return results
    }

    static func medianAnd90th(of buckets: [Int: Int]) -> (Int64?, Int64?) {
        let both = percentiles([0.5, 0.9], of: buckets)
        return (both[0], both[1])
    }
}

/// Calendar arithmetic on local dates written `YYYY-MM-DD`, without a time zone.
public enum CalendarDays {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func date(_ day: String) -> Date? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, day.count == 10 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
    }

    static func string(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// 1 (Monday) to 7 (Sunday).
    public static func isoWeekday(of day: String) -> Int? {
        date(day).map { (calendar.component(.weekday, from: $0) + 5) % 7 + 1 }
    }

    /// The day `count` days after `day`.
    public static func adding(_ count: Int, to day: String) -> String? {
        date(day).flatMap { calendar.date(byAdding: .day, value: count, to: $0) }.map(string)
    }

    /// Days from `from` to `to`, both included.
    public static func days(from: String, to: String) -> Int? {
        guard let start = date(from), let end = date(to) else { return nil }
        return calendar.dateComponents([.day], from: start, to: end).day.map { $0 + 1 }
    }

    /// The fewest day and month periods that cover `from`…`to` exactly: whole months as months, the days at either
    /// end as days.
    public static func cover(from: String, to: String) -> (days: [ClosedRange<String>], months: [String]) {
        guard from <= to else { return ([], []) }
        var days: [ClosedRange<String>] = []
        var months: [String] = []
        var day = from
        while day <= to {
            let month = String(day.prefix(7))
            let monthEnd = adding(-1, to: nextMonthStart(month))!
            if day.hasSuffix("-01"), monthEnd <= to {
                months.append(month)
            } else {
                let end = min(monthEnd, to)
                if let last = days.last, adding(1, to: last.upperBound) == day {
                    days[days.count - 1] = last.lowerBound...end
                } else {
                    days.append(day...end)
                }
            }
            day = nextMonthStart(month)
            if day > to { break }
            if day < from { day = from }
        }
        return (days, months)
    }

    /// `2026-04-01` for `2026-03`.
    static func nextMonthStart(_ month: String) -> String {
        let parts = month.split(separator: "-").compactMap { Int($0) }
        let (year, number) = parts[1] == 12 ? (parts[0] + 1, 1) : (parts[0], parts[1] + 1)
        return String(format: "%04d-%02d-01", year, number)
    }
}
