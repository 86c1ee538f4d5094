import Foundation
import TurnoCore

/// The sums of one user's sessions of one sport that started in one 15-minute slot: what statistics are made of.
/// Slots are short enough that every time zone's day (whole, half and quarter-hour offsets) is a whole number of
/// them, so one set of roll-ups answers for any `tz`, and statistics cost what the slots in range cost, not the
/// sessions.
public struct Rollup: Sendable, Equatable {
    public static let slotMs: Int64 = 900_000

    public var slot: Int64
    public var sport: Sport
    public var count: Int
    public var durationS: Int
    public var distanceM: Double
    public var caloriesKcal: Double
    public var elevationGainM: Double
    /// Heart rate × duration over the sessions that have a heart rate, and their duration: the duration-weighted mean.
    public var heartRateWeighted: Double
    public var heartRateDurationS: Int
    /// Distance and duration of the sessions that have a distance (for speed and pace).
    public var distanceDurationS: Int
    public var maxDurationS: Int
    public var maxDistanceM: Double

    public init(
        slot: Int64,
        sport: Sport,
        count: Int = 0,
        durationS: Int = 0,
        distanceM: Double = 0,
        caloriesKcal: Double = 0,
        elevationGainM: Double = 0,
        heartRateWeighted: Double = 0,
        heartRateDurationS: Int = 0,
        distanceDurationS: Int = 0,
        maxDurationS: Int = 0,
        maxDistanceM: Double = 0
    ) {
        self.slot = slot
        self.sport = sport
        self.count = count
        self.durationS = durationS
        self.distanceM = distanceM
        self.caloriesKcal = caloriesKcal
        self.elevationGainM = elevationGainM
        self.heartRateWeighted = heartRateWeighted
        self.heartRateDurationS = heartRateDurationS
        self.distanceDurationS = distanceDurationS
        self.maxDurationS = maxDurationS
        self.maxDistanceM = maxDistanceM
    }

    /// Takes in another roll-up of the same user, slot and sport.
    public mutating func add(_ other: Rollup) {
        count += other.count
        durationS += other.durationS
        distanceM += other.distanceM
        caloriesKcal += other.caloriesKcal
        elevationGainM += other.elevationGainM
        heartRateWeighted += other.heartRateWeighted
        heartRateDurationS += other.heartRateDurationS
        distanceDurationS += other.distanceDurationS
        maxDurationS = max(maxDurationS, other.maxDurationS)
        maxDistanceM = max(maxDistanceM, other.maxDistanceM)
    }

    public static func slot(of ms: Int64) -> Int64 {
        ms >= 0 ? ms / slotMs : (ms - slotMs + 1) / slotMs
    }

    /// One session's contribution.
    public init(_ session: ExerciseSession) {
        self.init(
            slot: Self.slot(of: session.startedAtMs),
            sport: session.sport,
            count: 1,
            durationS: session.durationS,
            distanceM: session.distanceM ?? 0,
            caloriesKcal: session.caloriesKcal ?? 0,
            elevationGainM: session.elevationGainM ?? 0,
            heartRateWeighted: session.avgHrBpm.map { Double($0 * session.durationS) } ?? 0,
            heartRateDurationS: session.avgHrBpm == nil ? 0 : session.durationS,
            distanceDurationS: session.distanceM == nil ? 0 : session.durationS,
            maxDurationS: session.durationS,
            maxDistanceM: session.distanceM ?? 0
        )
    }
}

/// The sums of one user's sessions of one sport that started on one local day: what the store adds up from the
/// roll-ups for a time zone, and statistics are made of.
public struct DayTotals: Sendable, Equatable {
    public var day: LocalDate
    public var sport: Sport
    public var count: Int
    public var durationS: Int
    public var distanceM: Double
    public var caloriesKcal: Double
    public var elevationGainM: Double
    public var heartRateWeighted: Double
    public var heartRateDurationS: Int
    public var distanceDurationS: Int
    /// The day's longest session of the sport, by duration and by distance (0 when none has a distance).
    public var maxDurationS: Int
    public var maxDistanceM: Double

    public init(
        day: LocalDate,
        sport: Sport,
        count: Int,
        durationS: Int,
        distanceM: Double,
        caloriesKcal: Double,
        elevationGainM: Double,
        heartRateWeighted: Double,
        heartRateDurationS: Int,
        distanceDurationS: Int,
        maxDurationS: Int,
        maxDistanceM: Double
    ) {
        self.day = day
        self.sport = sport
        self.count = count
        self.durationS = durationS
        self.distanceM = distanceM
        self.caloriesKcal = caloriesKcal
        self.elevationGainM = elevationGainM
        self.heartRateWeighted = heartRateWeighted
        self.heartRateDurationS = heartRateDurationS
        self.distanceDurationS = distanceDurationS
        self.maxDurationS = maxDurationS
        self.maxDistanceM = maxDistanceM
    }
}

/// How a statistics series is cut.
public enum Bucket: String, Sendable, Codable, CaseIterable {
    case day, week, month
}

/// Sums over some sessions.
public struct Totals: Sendable, Equatable, Codable {
    public var count = 0
    public var durationS = 0
    public var distanceM: Double = 0
    public var caloriesKcal: Double = 0
    public var elevationGainM: Double = 0

    public init() {}

    mutating func add(_ day: DayTotals) {
        count += day.count
        durationS += day.durationS
        distanceM += day.distanceM
        caloriesKcal += day.caloriesKcal
        elevationGainM += day.elevationGainM
    }
}

/// A user's statistics over a range of local days.
public struct Statistics: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        /// The bucket's first local day, `2026-11-16`.
        public var start: String
        public var totals: Totals
        /// Duration-weighted average heart rate of the bucket's sessions with one; nil when none has.
        public var heartRateBpm: Double?
    }

    /// Where the longest session is: its local day and sport (the store finds the session), and its value.
    public struct Best: Sendable, Equatable {
        public var day: LocalDate
        public var sport: Sport
        public var value: Double
    }

    public var totals = Totals()
    public var bySport: [Sport: Totals] = [:]
    public var series: [Point] = []
    public var speedKmh: Double?
    public var paceSPerKm: Double?
    public var heartRateBpm: Double?
    public var longestDuration: Best?
    public var longestDistance: Best?
    public var biggestWeek: Point?
    public var currentStreakDays = 0
    public var longestStreakDays = 0

    /// Statistics from the daily totals of the local days `first...last`, cut by `bucket`; `today` decides the current
    /// streak (a streak still counts when its last day is yesterday: today is not over).
    public static func compute(days: [DayTotals], first: LocalDate, last: LocalDate, bucket: Bucket, today: LocalDate) -> Statistics {
        var statistics = Statistics()
        let buckets = first.buckets(through: last, by: bucket)
        var points = buckets.map { Point(start: $0.description, totals: Totals()) }
        var heartRate = Array(repeating: (weighted: 0.0, seconds: 0), count: buckets.count)
        var weeks: [LocalDate: Totals] = [:]
        var activeDays: Set<LocalDate> = []
        var hrWeighted = 0.0
        var hrSeconds = 0
        var distanceSeconds = 0
        var timedDistance = 0.0
        var speedSports: Set<Sport> = []
        for totals in days where totals.day >= first && totals.day <= last && totals.count > 0 {
            statistics.totals.add(totals)
            statistics.bySport[totals.sport, default: Totals()].add(totals)
            let index = bucketIndex(of: totals.day, in: buckets)
            points[index].totals.add(totals)
            heartRate[index].weighted += totals.heartRateWeighted
            heartRate[index].seconds += totals.heartRateDurationS
            weeks[totals.day.startOfWeek, default: Totals()].add(totals)
            activeDays.insert(totals.day)
            hrWeighted += totals.heartRateWeighted
            hrSeconds += totals.heartRateDurationS
            if Double(totals.maxDurationS) > statistics.longestDuration?.value ?? 0 {
                statistics.longestDuration = Best(day: totals.day, sport: totals.sport, value: Double(totals.maxDurationS))
            }
            if totals.maxDistanceM > statistics.longestDistance?.value ?? 0 {
                statistics.longestDistance = Best(day: totals.day, sport: totals.sport, value: totals.maxDistanceM)
            }
            if totals.distanceDurationS > 0 {
                distanceSeconds += totals.distanceDurationS
                timedDistance += totals.distanceM
                speedSports.insert(totals.sport)
            }
        }
        for index in points.indices where heartRate[index].seconds > 0 {
            points[index].heartRateBpm = heartRate[index].weighted / Double(heartRate[index].seconds)
        }
        statistics.series = points
        statistics.heartRateBpm = hrSeconds > 0 ? hrWeighted / Double(hrSeconds) : nil
        if distanceSeconds > 0, timedDistance > 0 {
            statistics.speedKmh = timedDistance / Double(distanceSeconds) * 3.6
            // Pace only when every sport with a distance is one people read as a pace.
            if speedSports.allSatisfy(\.readsAsPace) { statistics.paceSPerKm = Double(distanceSeconds) / (timedDistance / 1000) }
        }
        if let (start, totals) = weeks.max(by: { ($0.value.distanceM, $0.value.durationS, $1.key) < ($1.value.distanceM, $1.value.durationS, $0.key) }) {
            statistics.biggestWeek = Point(start: start.description, totals: totals)
        }
        (statistics.currentStreakDays, statistics.longestStreakDays) = streaks(activeDays, today: today)
        return statistics
    }

    private static func bucketIndex(of day: LocalDate, in buckets: [LocalDate]) -> Int {
        var low = 0
        var high = buckets.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if buckets[middle] <= day { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The run of consecutive active days ending today or yesterday, and the longest run.
    static func streaks(_ days: Set<LocalDate>, today: LocalDate) -> (current: Int, longest: Int) {
        var longest = 0
        for day in days where !days.contains(day.adding(days: -1)) {
            var length = 1
            while days.contains(day.adding(days: length)) { length += 1 }
            longest = max(longest, length)
        }
        var end = days.contains(today) ? today : today.adding(days: -1)
        var current = 0
        while days.contains(end) {
            current += 1
            end = end.adding(days: -1)
        }
        return (current, longest)
    }
}

/// A calendar day, without a time zone: what "a day" means to the user in their zone.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let dayNumber: Int

    public init(dayNumber: Int) {
        self.dayNumber = dayNumber
    }

    /// The local day of an instant in a time zone.
    public init(ms: Int64, timeZone: TimeZone) {
        let offsetS = Int64(timeZone.secondsFromGMT(for: Date(milliseconds: ms)))
        let local = ms + offsetS * 1000
        dayNumber = Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
    }

    /// `2026-11-21`; nil when it is not such a date.
    public init?(_ text: String) {
        // Exactly four, two and two digits: `split` would drop empty pieces and `Int(_:)` would take a sign.
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, zip(parts, [4, 2, 2]).allSatisfy({ $0.count == $1 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        dayNumber = Self.days(year: year, month: month, day: day)
    }

    /// The first instant of this day in a time zone (its local midnight, or the first moment after it).
    public func startMs(in timeZone: TimeZone) -> Int64 {
        let utcMidnight = Int64(dayNumber) * 86_400_000
        // The offset at local midnight may differ from the one at UTC midnight (a DST change that day): try both.
        var guess = utcMidnight - Int64(timeZone.secondsFromGMT(for: Date(milliseconds: utcMidnight))) * 1000
        for _ in 0..<2 {
            let offset = Int64(timeZone.secondsFromGMT(for: Date(milliseconds: guess))) * 1000
            guess = utcMidnight - offset
        }
        return guess
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    /// Monday of this day's ISO week.
    public var startOfWeek: LocalDate {
        // 1970-01-01 was a Thursday (weekday 3 counting Monday as 0).
        adding(days: -((dayNumber + 3) % 7 + 7) % 7)
    }

    public var startOfMonth: LocalDate {
        let (year, month, _) = civil
        return LocalDate(dayNumber: Self.days(year: year, month: month, day: 1))
    }

    /// The first day of every bucket from this day's bucket through `last`'s.
    func buckets(through last: LocalDate, by bucket: Bucket) -> [LocalDate] {
        var result: [LocalDate] = []
        var start = self.start(of: bucket)
        while start <= last {
            result.append(start)
            switch bucket {
            case .day: start = start.adding(days: 1)
            case .week: start = start.adding(days: 7)
            case .month:
                let (year, month, _) = start.civil
                start = LocalDate(dayNumber: month == 12 ? Self.days(year: year + 1, month: 1, day: 1) : Self.days(year: year, month: month + 1, day: 1))
            }
        }
        return result
    }

    func start(of bucket: Bucket) -> LocalDate {
        switch bucket {
        case .day: self
        case .week: startOfWeek
        case .month: startOfMonth
        }
    }

    public var description: String {
        let (year, month, day) = civil
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func < (left: LocalDate, right: LocalDate) -> Bool { left.dayNumber < right.dayNumber }

    /// Howard Hinnant's civil-from-days.
    var civil: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Howard Hinnant's days-from-civil.
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
