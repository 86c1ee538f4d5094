import Foundation

@testable import Sessions

/// A seeded random generator, so a failing property run can be replayed from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed &+ 0x9E37_79B9_7F4A_7C15
    }

    mutating func next() -> UInt64 {
        // SplitMix64
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Calendar arithmetic done by Foundation's Gregorian calendar, never by `LocalDate`: the oracle the tests compare
/// the domain's own day arithmetic with. Day numbers count days since 1970-01-01, as `LocalDate.dayNumber` does.
enum Civil {
    static let utc = calendar(in: TimeZone(identifier: "UTC")!)

    static func calendar(in zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    static func date(ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }

    static func ms(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// The instant of a UTC wall-clock time.
    static func utcMs(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Int64 {
        ms(of: utc.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!)
    }

    static func dayNumber(_ year: Int, _ month: Int, _ day: Int) -> Int {
        Int(utcMs(year, month, day) / 86_400_000)
    }

    /// The local calendar day of an instant, by Foundation.
    static func localDay(ms: Int64, in calendar: Calendar) -> Int {
        let parts = calendar.dateComponents([.year, .month, .day], from: date(ms: ms))
        return dayNumber(parts.year!, parts.month!, parts.day!)
    }

    static func parts(of dayNumber: Int) -> (year: Int, month: Int, day: Int) {
        let parts = utc.dateComponents([.year, .month, .day], from: date(ms: Int64(dayNumber) * 86_400_000))
        return (parts.year!, parts.month!, parts.day!)
    }

    static func text(of dayNumber: Int) -> String {
        let (year, month, day) = parts(of: dayNumber)
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// The Monday on or before the day.
    static func monday(of dayNumber: Int) -> Int {
        // Foundation's weekday: 1 is Sunday, 2 Monday, … 7 Saturday.
        let weekday = utc.component(.weekday, from: date(ms: Int64(dayNumber) * 86_400_000))
        return dayNumber - (weekday + 5) % 7
    }

    static func firstOfMonth(of dayNumber: Int) -> Int {
        let (year, month, _) = parts(of: dayNumber)
        return Self.dayNumber(year, month, 1)
    }

    static func bucketStart(of dayNumber: Int, _ bucket: Bucket) -> Int {
        switch bucket {
        case .day: dayNumber
        case .week: monday(of: dayNumber)
        case .month: firstOfMonth(of: dayNumber)
        }
    }
}

/// Time zones with whole, half and quarter-hour offsets, daylight saving at 2:00, at midnight and by half an hour,
/// both sides of the date line, and zones whose standard offset changed (or that skipped a day) since 2000.
/// Tehran (until 2022) and Beirut move their clocks forward at midnight, east of UTC; St John's did so at 00:01 until 2011.
let testZones = [
    "UTC", "Asia/Kolkata", "Asia/Kathmandu", "Europe/Rome", "America/St_Johns", "Australia/Lord_Howe", "Pacific/Chatham",
    "America/Santiago", "Australia/Adelaide", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Pyongyang",
    "Pacific/Apia", "America/Caracas", "Europe/Volgograd", "Asia/Tehran", "Asia/Beirut",
]

/// The sports people read as a pace (time per kilometre) rather than a speed.
let paceSports: Set<Sport> = [.run, .walk, .hike, .swim]

enum Generate {
    /// A multiple of 0.5 in `range`: sums of such values are exact in any order, so totals compare with `==`.
    static func halves(in range: ClosedRange<Int>, using random: inout SeededRandom) -> Double {
        Double(Int.random(in: (range.lowerBound * 2)...(range.upperBound * 2), using: &random)) / 2
    }

    /// A session anywhere in `[fromMs, toMs)`, often a few minutes either side of a local midnight of `calendar`,
    /// with every optional field sometimes absent. Not necessarily plausible: statistics add up whatever is stored.
    static func session(id: Int64, fromMs: Int64, toMs: Int64, calendar: Calendar, using random: inout SeededRandom) -> ExerciseSession {
        var start = Int64.random(in: fromMs..<toMs, using: &random)
        if Bool.random(using: &random) {
            let midnight = Civil.ms(of: calendar.startOfDay(for: Civil.date(ms: start)))
            start = min(max(midnight + Int64.random(in: -1_200_000...1_200_000, using: &random), fromMs), toMs - 1)
        }
        let durationS = Int.random(in: 1...30_000, using: &random)
        let average = Bool.random(using: &random) ? Int.random(in: 60...190, using: &random) : nil
        return ExerciseSession(
            id: id,
            userID: "athlete",
            sport: Sport.allCases.randomElement(using: &random)!,
            startedAtMs: start,
            durationS: durationS,
            distanceM: Int.random(in: 0..<4, using: &random) == 0 ? nil : halves(in: 0...60_000, using: &random),
            caloriesKcal: Bool.random(using: &random) ? halves(in: 0...2_000, using: &random) : nil,
            avgHrBpm: average,
            maxHrBpm: average.map { $0 + Int.random(in: 0...30, using: &random) },
            elevationGainM: Bool.random(using: &random) ? halves(in: 0...1_500, using: &random) : nil
        )
    }
}

/// One user's sessions and a request for their statistics: a time zone, a range of local days, a bucket and today.
struct Scenario: CustomStringConvertible {
    var zone: TimeZone
    var first: Int
    var last: Int
    var bucket: Bucket
    var today: Int
    var sessions: [ExerciseSession]

    init(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        zone = TimeZone(identifier: testZones.randomElement(using: &random)!)!
        let calendar = Civil.calendar(in: zone)
        first = Int.random(in: Civil.dayNumber(2008, 1, 1)...Civil.dayNumber(2027, 6, 1), using: &random)
        last = first + [0, 1, 6, 30, 45, 120, 400].randomElement(using: &random)! + Int.random(in: 0...3, using: &random)
        bucket = Bucket.allCases.randomElement(using: &random)!
        today = last + Int.random(in: -3...2, using: &random)
        // Sessions from a little before the first day to a little after the last, so some fall outside the range.
        let fromMs = Int64(first - 3) * 86_400_000
        let toMs = Int64(last + 4) * 86_400_000
        let scattered = (0..<Int.random(in: 0...60, using: &random)).map { index in
            Generate.session(id: Int64(index), fromMs: fromMs, toMs: toMs, calendar: calendar, using: &random)
        }
        // And a habit: some sessions at a random local time on a run of days with gaps, for streaks.
        var habitual: [ExerciseSession] = []
        let keen = Double.random(in: 0.3...0.95, using: &random)
        for day in (today - 40)...(today + 1) where Double.random(in: 0..<1, using: &random) < keen {
            let (year, month, date) = Civil.parts(of: day)
            let hour = Int.random(in: 0...23, using: &random)
            let minute = Int.random(in: 0...59, using: &random)
            guard let local = calendar.date(from: DateComponents(year: year, month: month, day: date, hour: hour, minute: minute)) else { continue }
            var session = Generate.session(id: Int64(1_000 + habitual.count), fromMs: fromMs, toMs: toMs, calendar: calendar, using: &random)
            session.startedAtMs = Civil.ms(of: local)
            habitual.append(session)
        }
        sessions = scattered + habitual
    }

    var firstDate: LocalDate { LocalDate(dayNumber: first) }
    var lastDate: LocalDate { LocalDate(dayNumber: last) }
    var todayDate: LocalDate { LocalDate(dayNumber: today) }

    var description: String {
        "\(zone.identifier) \(Civil.text(of: first))…\(Civil.text(of: last)) by \(bucket), today \(Civil.text(of: today)), \(sessions.count) sessions"
    }
}

/// What one session adds to a day, keyed by its local day and sport.
struct DayKey: Hashable, Comparable {
    var day: Int
    var sport: String

    static func < (left: DayKey, right: DayKey) -> Bool { (left.day, left.sport) < (right.day, right.sport) }
}

extension DayTotals {
    /// The same day's sums with another row's taken in (the store may answer a day in two rows: a DST change).
    mutating func merge(_ other: DayTotals) {
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

    var key: DayKey { DayKey(day: day.dayNumber, sport: sport.rawValue) }
}

enum Oracle {
    /// The day totals of sessions grouped by their local day per Foundation's calendar, session by session.
    static func dayTotals(_ sessions: [ExerciseSession], zone: TimeZone) -> [DayKey: DayTotals] {
        let calendar = Civil.calendar(in: zone)
        var days: [DayKey: DayTotals] = [:]
        for session in sessions {
            let day = Civil.localDay(ms: session.startedAtMs, in: calendar)
            let row = DayTotals(
                day: LocalDate(dayNumber: day),
                sport: session.sport,
                count: 1,
                durationS: session.durationS,
                distanceM: session.distanceM ?? 0,
                caloriesKcal: session.caloriesKcal ?? 0,
                elevationGainM: session.elevationGainM ?? 0,
                heartRateWeighted: Double((session.avgHrBpm ?? 0) * session.durationS),
                heartRateDurationS: session.avgHrBpm == nil ? 0 : session.durationS,
                distanceDurationS: session.distanceM == nil ? 0 : session.durationS,
                maxDurationS: session.durationS,
                maxDistanceM: session.distanceM ?? 0
            )
            if days[row.key] == nil { days[row.key] = row } else { days[row.key]!.merge(row) }
        }
        return days
    }

    /// What the store answers for `first...last` in `zone`: the sessions summed into 15-minute roll-ups, the roll-ups
    /// summed per sport and local day over each stretch of constant UTC offset (one row per stretch, sport and day).
    static func storeRows(_ sessions: [ExerciseSession], first: LocalDate, last: LocalDate, zone: TimeZone) -> [DayTotals] {
        struct SlotKey: Hashable {
            var slot: Int64
            var sport: Sport
        }
        var rollups: [SlotKey: Rollup] = [:]
        for session in sessions {
            let contribution = Rollup(session)
            rollups[SlotKey(slot: contribution.slot, sport: session.sport), default: Rollup(slot: contribution.slot, sport: session.sport)].add(contribution)
        }
        var rows: [DayTotals] = []
        let stretches = SessionStore.constantOffsetStretches(from: first.startMs(in: zone), to: last.adding(days: 1).startMs(in: zone), timeZone: zone)
        for stretch in stretches {
            var days: [DayKey: DayTotals] = [:]
            for rollup in rollups.values where stretch.slots.contains(rollup.slot) {
                // The store's SQL: (slot * slotMs + offsetMs) / 86400000, an integer division.
                let day = LocalDate(dayNumber: Int((rollup.slot * Rollup.slotMs + stretch.offsetMs) / 86_400_000))
                let row = DayTotals(
                    day: day,
                    sport: rollup.sport,
                    count: rollup.count,
                    durationS: rollup.durationS,
                    distanceM: rollup.distanceM,
                    caloriesKcal: rollup.caloriesKcal,
                    elevationGainM: rollup.elevationGainM,
                    heartRateWeighted: rollup.heartRateWeighted,
                    heartRateDurationS: rollup.heartRateDurationS,
                    distanceDurationS: rollup.distanceDurationS,
                    maxDurationS: rollup.maxDurationS,
                    maxDistanceM: rollup.maxDistanceM
                )
                if days[row.key] == nil { days[row.key] = row } else { days[row.key]!.merge(row) }
            }
            rows += days.values
        }
        return rows
    }

    static func merged(_ rows: [DayTotals]) -> [DayKey: DayTotals] {
        var days: [DayKey: DayTotals] = [:]
        for row in rows {
            if days[row.key] == nil { days[row.key] = row } else { days[row.key]!.merge(row) }
        }
        return days
    }
}

/// Statistics worked out session by session, with Foundation's calendar for days, weeks and months.
struct ExpectedStatistics {
    struct Sums: Equatable {
        var count = 0
        var durationS = 0
        var distanceM = 0.0
        var caloriesKcal = 0.0
        var elevationGainM = 0.0

        mutating func add(_ session: ExerciseSession) {
            count += 1
            durationS += session.durationS
            distanceM += session.distanceM ?? 0
            caloriesKcal += session.caloriesKcal ?? 0
            elevationGainM += session.elevationGainM ?? 0
        }

        func matches(_ totals: Totals) -> Bool {
            count == totals.count && durationS == totals.durationS && distanceM == totals.distanceM && caloriesKcal == totals.caloriesKcal
                && elevationGainM == totals.elevationGainM
        }
    }

    /// The in-range sessions with their local day.
    var sessions: [(day: Int, session: ExerciseSession)]
    var totals = Sums()
    var bySport: [Sport: Sums] = [:]
    var bucketStarts: [Int] = []
    var buckets: [Int: Sums] = [:]
    var bucketHeartRate: [Int: Double] = [:]
    var weeks: [Int: Sums] = [:]
    var heartRate: Double?
    var speedKmh: Double?
    var paceSPerKm: Double?
    var currentStreak = 0
    var longestStreak = 0

    init(_ scenario: Scenario) {
        let calendar = Civil.calendar(in: scenario.zone)
        sessions = scenario.sessions.map { (Civil.localDay(ms: $0.startedAtMs, in: calendar), $0) }.filter { (scenario.first...scenario.last).contains($0.day) }
        var day = scenario.first
        while day <= scenario.last {
            let start = Civil.bucketStart(of: day, scenario.bucket)
            if bucketStarts.last != start { bucketStarts.append(start) }
            day += 1
        }
        var heartRateSums: [Int: (weighted: Int, seconds: Int)] = [:]
        for (day, session) in sessions {
            totals.add(session)
            bySport[session.sport, default: Sums()].add(session)
            let bucket = Civil.bucketStart(of: day, scenario.bucket)
            buckets[bucket, default: Sums()].add(session)
            weeks[Civil.monday(of: day), default: Sums()].add(session)
            if let average = session.avgHrBpm {
                heartRateSums[bucket, default: (0, 0)].weighted += average * session.durationS
                heartRateSums[bucket, default: (0, 0)].seconds += session.durationS
            }
        }
        bucketHeartRate = heartRateSums.mapValues { Double($0.weighted) / Double($0.seconds) }
        let withHeartRate = sessions.compactMap { entry in entry.session.avgHrBpm.map { ($0, entry.session.durationS) } }
        if !withHeartRate.isEmpty {
            heartRate = Double(withHeartRate.reduce(0) { $0 + $1.0 * $1.1 }) / Double(withHeartRate.reduce(0) { $0 + $1.1 })
        }
        let withDistance = sessions.map(\.session).filter { $0.distanceM != nil }
        let metres = withDistance.reduce(0.0) { $0 + $1.distanceM! }
        let seconds = withDistance.reduce(0) { $0 + $1.durationS }
        if seconds > 0, metres > 0 {
            speedKmh = metres / 1000 / (Double(seconds) / 3600)
            if withDistance.allSatisfy({ paceSports.contains($0.sport) }) { paceSPerKm = Double(seconds) / (metres / 1000) }
        }
        // Streaks: runs of consecutive active days, walked one day at a time.
        let active = Set(sessions.map(\.day))
        for start in active.sorted() {
            var length = 0
            while active.contains(start + length) { length += 1 }
            longestStreak = max(longestStreak, length)
        }
        var end = active.contains(scenario.today) ? scenario.today : scenario.today - 1
        while active.contains(end) {
            currentStreak += 1
            end -= 1
        }
    }

    var longestDurationS: Int? { sessions.map(\.session.durationS).max() }

    var longestDistanceM: Double? { sessions.compactMap(\.session.distanceM).filter { $0 > 0 }.max() }
}

func close(_ left: Double?, _ right: Double?) -> Bool {
    switch (left, right) {
    case (nil, nil): true
    case (let left?, let right?): abs(left - right) <= 1e-9 * max(1, abs(left), abs(right))
    default: false
    }
}
