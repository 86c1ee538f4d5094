import Foundation
import TurnoCore

/// A calendar date with no time or zone, `2026-12-07`: what opening hours, shifts and absences are planned by.
public struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Days since 1970-01-01: dates compare and step as whole numbers.
    public let daysSinceEpoch: Int

    public init(daysSinceEpoch: Int) {
        self.daysSinceEpoch = daysSinceEpoch
    }

    /// Parses `YYYY-MM-DD`; nil for anything else, or a day no calendar has (`2026-02-30`).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let days = Self.civilDays(year: year, month: month, day: day)
        guard Self(daysSinceEpoch: days).components == (year, month, day) else { return nil }
        self.daysSinceEpoch = days
    }

    /// The local date of an instant in `timeZone` (an IANA name; unknown names count as UTC).
    public init(ofMilliseconds milliseconds: Int64, timeZone: String) {
        let parts = LocalClock.calendar(timeZone).dateComponents([.year, .month, .day], from: Date(milliseconds: milliseconds))
        self.daysSinceEpoch = Self.civilDays(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    public var components: (year: Int, month: Int, day: Int) {
        // Howard Hinnant's civil-from-days: exact for the proleptic Gregorian calendar.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func civilDays(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        Weekday.allCases[((daysSinceEpoch % 7) + 7 + 3) % 7]
    }

    public func adding(days: Int) -> LocalDate { LocalDate(daysSinceEpoch: daysSinceEpoch + days) }

    public var description: String {
        let (year, month, day) = components
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected a date such as 2026-12-07, got `\(text)`.")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A day of the week, Monday first (ISO 8601).
public enum Weekday: String, Sendable, Codable, CaseIterable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A time of day on the wall clock, `08:30`, as minutes after midnight; `24:00` ends a day.
public struct TimeOfDay: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let minutes: Int

    public init?(minutes: Int) {
        guard (0...1_440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// Parses `HH:MM`, 00:00 to 24:00.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard text.count == 5, parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...24).contains(hours), (0...59).contains(minutes)
        else { return nil }
        self.init(minutes: hours * 60 + minutes)
    }

    public var description: String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = TimeOfDay(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected a time of day such as 08:30 (00:00 to 24:00), got `\(text)`.")
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// From one time of day to a later one of the same day: `08:30–12:30`. Nothing runs past midnight.
public struct TimeRange: Sendable, Hashable, Codable, CustomStringConvertible {
    public var from: TimeOfDay
    public var to: TimeOfDay

    public init(from: TimeOfDay, to: TimeOfDay) {
        self.from = from
        self.to = to
    }

    public func overlaps(_ other: TimeRange) -> Bool { from < other.to && other.from < to }
    public func contains(_ minute: Int) -> Bool { from.minutes <= minute && minute < to.minutes }
    public var description: String { "\(from)–\(to)" }
}

/// The wall clock of a time zone: where a local date and time of day fall in real time, across DST changes.
public enum LocalClock {
    /// The Gregorian calendar of `timeZone` (an IANA name; unknown names count as UTC), the one every local date uses.
    static func calendar(_ timeZone: String) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: timeZone) ?? TimeZone(identifier: "UTC")!
        return calendar
    }

    /// Milliseconds since 1970 of `time` on `date` in `timeZone`. A time the clocks skip (02:30 on the day they go
    /// forward) falls where the clock shows it after the jump; a time they show twice, at its first showing; 24:00 is
    /// the next day's midnight.
    public static func instant(_ date: LocalDate, _ time: TimeOfDay, timeZone: String) -> Int64 {
        let calendar = calendar(timeZone)
        let (year, month, day) = date.components
        let midnight = calendar.date(from: DateComponents(year: year, month: month, day: day))!
        let start = calendar.startOfDay(for: midnight)
        if time.minutes == 0 { return start.milliseconds }
        if time.minutes == 1_440 { return instant(date.adding(days: 1), TimeOfDay(minutes: 0)!, timeZone: timeZone) }
        let components = DateComponents(hour: time.minutes / 60, minute: time.minutes % 60)
        let found = calendar.nextDate(after: start.addingTimeInterval(-1), matching: components, matchingPolicy: .nextTimePreservingSmallerComponents)
        return (found ?? start.addingTimeInterval(Double(time.minutes * 60))).milliseconds
    }

    /// The local time of day of an instant, in minutes after midnight.
    public static func minutes(ofMilliseconds milliseconds: Int64, timeZone: String) -> Int {
        let parts = calendar(timeZone).dateComponents([.hour, .minute], from: Date(milliseconds: milliseconds))
        return parts.hour! * 60 + parts.minute!
    }
}

/// A date the week's hours do not hold for: a holiday (no hours: closed) or a day with hours of its own.
public struct SpecialDay: Sendable, Equatable, Codable {
    public var date: LocalDate
    /// What the day is, shown to customers: "Christmas".
    public var name: String
    public var hours: [TimeRange]

    public init(date: LocalDate, name: String, hours: [TimeRange]) {
        self.date = date
        self.name = name
        self.hours = hours
    }
}

/// When a branch is open: hours per weekday, special days, and how long before closing it stops taking tickets.
public struct OpeningHours: Sendable, Equatable, Codable {
    /// The hours of each weekday; a weekday left out is closed.
    public var week: [Weekday: [TimeRange]]
    public var specialDays: [SpecialDay]
    /// Tickets are refused this many minutes before each closing, so that the last customers can still be served.
    public var lastTicketMinutes: Int

    public static let maximumRangesPerDay = 4
    public static let lastTicketLimit = 0...240
    public static let specialDayLimit = 500

    public init(week: [Weekday: [TimeRange]], specialDays: [SpecialDay] = [], lastTicketMinutes: Int = 0) {
        self.week = week
        self.specialDays = specialDays
        self.lastTicketMinutes = lastTicketMinutes
    }

    enum CodingKeys: String, CodingKey {
        case week, specialDays, lastTicketMinutes
    }

    /// The week as `{"mon": [...], ...}` (a dictionary keyed by an enumeration would encode as a list).
    struct Week: Codable {
        var mon, tue, wed, thu, fri, sat, sun: [TimeRange]?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let week = try container.decode(Week.self, forKey: .week)
        let days: [(Weekday, [TimeRange]?)] = [
            (.mon, week.mon), (.tue, week.tue), (.wed, week.wed), (.thu, week.thu), (.fri, week.fri), (.sat, week.sat), (.sun, week.sun),
        ]
        self.week = days.reduce(into: [:]) { if let ranges = $1.1, !ranges.isEmpty { $0[$1.0] = ranges } }
        self.specialDays = try container.decodeIfPresent([SpecialDay].self, forKey: .specialDays) ?? []
        self.lastTicketMinutes = try container.decodeIfPresent(Int.self, forKey: .lastTicketMinutes) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let week = Week(
            mon: self.week[.mon] ?? [],
            tue: self.week[.tue] ?? [],
            wed: self.week[.wed] ?? [],
            thu: self.week[.thu] ?? [],
            fri: self.week[.fri] ?? [],
            sat: self.week[.sat] ?? [],
            sun: self.week[.sun] ?? []
        )
        try container.encode(week, forKey: .week)
        try container.encode(specialDays, forKey: .specialDays)
        try container.encode(lastTicketMinutes, forKey: .lastTicketMinutes)
    }

    /// The hours in force on `date`: its special day's, else its weekday's; sorted.
    public func hours(on date: LocalDate) -> [TimeRange] {
        (specialDays.first { $0.date == date }?.hours ?? week[date.weekday] ?? []).sorted { $0.from < $1.from }
    }

    /// The special day `date` is, if any.
    public func specialDay(_ date: LocalDate) -> SpecialDay? { specialDays.first { $0.date == date } }

    /// `self` with its special days sorted, if it keeps the rules: each day's ranges start before they end and do
    /// not overlap, at most four a day, no date twice, names of 1 to 100 characters, the last-ticket minutes 0 to 240.
    public func checked() throws(ScheduleRuleViolation) -> OpeningHours {
        func check(_ ranges: [TimeRange], _ day: String) throws(ScheduleRuleViolation) {
            guard ranges.count <= Self.maximumRangesPerDay else { throw .tooManyRanges(day: day, limit: Self.maximumRangesPerDay) }
            for range in ranges where range.to <= range.from { throw .emptyRange(day: day, range: range.description) }
            let sorted = ranges.sorted { $0.from < $1.from }
            for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.overlaps(later) {
                throw .overlappingHours(day: day, first: earlier.description, second: later.description)
            }
        }
        for weekday in Weekday.allCases { try check(week[weekday] ?? [], weekday.rawValue) }
        guard specialDays.count <= Self.specialDayLimit else { throw .tooManySpecialDays(limit: Self.specialDayLimit) }
        var seen = Set<LocalDate>()
        for day in specialDays {
            guard seen.insert(day.date).inserted else { throw .specialDayTwice(day.date.description) }
            let name = day.name.trimmingCharacters(in: .whitespacesAndNewlines)
            // Lengths count code points, as the API document's maxLength does.
            guard (1...100).contains(name.unicodeScalars.count) else { throw .badName(field: "special day \(day.date)") }
            try check(day.hours, day.date.description)
        }
        guard Self.lastTicketLimit.contains(lastTicketMinutes) else { throw .lastTicketOutOfRange(lastTicketMinutes) }
        var result = self
        result.specialDays = specialDays.map { SpecialDay(date: $0.date, name: $0.name.trimmingCharacters(in: .whitespacesAndNewlines), hours: $0.hours) }
            .sorted { $0.date < $1.date }
        return result
    }

    /// Whether the branch is open at an instant, whether it takes tickets, and when that changes.
    public func status(atMs now: Int64, timeZone: String) -> OpeningStatus {
        let today = LocalDate(ofMilliseconds: now, timeZone: timeZone)
        // A range found by its real instants, so the minutes of a day the clocks change are right.
        let current = hours(on: today).first { range in
            LocalClock.instant(today, range.from, timeZone: timeZone) <= now && now < LocalClock.instant(today, range.to, timeZone: timeZone)
        }
        let closesAtMs = current.map { closing(after: today, range: $0, timeZone: timeZone) }
        let takesTickets = closesAtMs.map { now < $0 - Int64(lastTicketMinutes) * 60_000 } ?? false
        return OpeningStatus(
            isOpen: current != nil,
            takesTickets: takesTickets,
            closesAtMs: closesAtMs,
            nextOpeningMs: current == nil ? nextOpening(after: now, timeZone: timeZone) : nil,
            specialDay: specialDay(today)?.name
        )
    }

    /// When the branch really closes after `range` of `date`: a range that starts as it ends (12:00–18:00 after
    /// 08:00–12:00, or 00:00 the next day after a day open until 24:00) carries it on.
    func closing(after date: LocalDate, range: TimeRange, timeZone: String) -> Int64 {
        var (date, end) = (date, range.to)
        for _ in 0..<14 {
            if end.minutes == 1_440, let next = hours(on: date.adding(days: 1)).first, next.from.minutes == 0 {
                (date, end) = (date.adding(days: 1), next.to)
            } else if let next = hours(on: date).first(where: { $0.from == end }) {
                end = next.to
            } else {
                break
            }
        }
        return LocalClock.instant(date, end, timeZone: timeZone)
    }

    /// The next instant after `now` at which a range starts, looking up to 400 days ahead; nil if none does.
    public func nextOpening(after now: Int64, timeZone: String) -> Int64? {
        let today = LocalDate(ofMilliseconds: now, timeZone: timeZone)
        for offset in 0...400 {
            let date = today.adding(days: offset)
            for range in hours(on: date) {
                let start = LocalClock.instant(date, range.from, timeZone: timeZone)
                if start > now { return start }
            }
        }
        return nil
    }

    /// Throws the reason a customer may not take a ticket at `now`, if any.
    public func checkTakesTickets(atMs now: Int64, timeZone: String) throws(QueueRuleViolation) {
        let status = status(atMs: now, timeZone: timeZone)
        if status.takesTickets { return }
        let at = { (ms: Int64) in Timestamp.format(milliseconds: ms) }
        if let closes = status.closesAtMs {
            throw .branchStopsTickets(minutes: lastTicketMinutes, closesAt: at(closes))
        }
        throw .branchClosedNow(specialDay: status.specialDay, opensAt: status.nextOpeningMs.map(at))
    }
}

/// Where a branch stands against its opening hours at one instant.
public struct OpeningStatus: Sendable, Equatable {
    public var isOpen: Bool
    /// Open, and not yet in the last minutes before closing in which tickets stop.
    public var takesTickets: Bool
    public var closesAtMs: Int64?
    /// When closed: when it opens next.
    public var nextOpeningMs: Int64?
    /// The name of today's special day, if it is one.
    public var specialDay: String?
}
