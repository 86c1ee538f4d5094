import Foundation
import Testing

@testable import Sessions

/// Local days, weeks and months, and sessions put on the local day of their time zone (half and quarter-hour offsets,
/// daylight-saving changes).
@Suite("Sessions statistics: local days and time zones")
struct LocalDayTests {
    static func zone(_ identifier: String) -> TimeZone { TimeZone(identifier: identifier)! }

    static func day(_ text: String) -> LocalDate { LocalDate(text)! }

    /// Statistics by day of single sessions: the local days that have one.
    static func activeDays(_ starts: [Int64], zone: TimeZone, first: String, last: String) -> [String] {
        let sessions = starts.enumerated().map { ExerciseSession(id: Int64($0.offset), userID: "u", sport: .run, startedAtMs: $0.element, durationS: 600) }
        let rows = Oracle.storeRows(sessions, first: day(first), last: day(last), zone: zone)
        let statistics = Statistics.compute(days: rows, first: day(first), last: day(last), bucket: .day, today: day(last))
        #expect(statistics.totals.count == sessions.count, "every session lands on a day of \(first)…\(last)")
        return statistics.series.filter { $0.totals.count > 0 }.map(\.start)
    }

    @Test(
        "a date reads only as YYYY-MM-DD of a real day",
        arguments: [
            ("2026-11-21", true), ("2024-02-29", true), ("2000-02-29", true), ("2026-02-29", false), ("2100-02-29", false),
            ("2026-04-30", true), ("2026-04-31", false), ("2026-12-31", true), ("2026-13-01", false), ("2026-00-10", false),
            ("2026-01-00", false), ("26-01-10", false), ("2026-01", false), ("2026/01/10", false), ("", false), ("abcd-01-01", false),
            ("2026-01-10T00:00", false), ("1970-01-01", true),
        ]
    )
    func parsesDates(text: String, valid: Bool) {
        let date = LocalDate(text)
        #expect((date != nil) == valid)
        if let date {
            let parts = text.split(separator: "-").map { Int($0)! }
            #expect(date.dayNumber == Civil.dayNumber(parts[0], parts[1], parts[2]))
            #expect(date.description == text)
        }
    }

    @Test("a date with misplaced dashes or signs is not a date", arguments: ["2026--11-21", "2026-11-21-", "-2026-11-21", "2026-+1-05", "+026-11-21"])
    func rejectsMalformedDates(text: String) {
        // Splitting on "-" would drop empty pieces, and Int(_:) takes a sign: neither may make these a date.
        #expect(LocalDate(text) == nil)
    }

    @Test("day numbers, descriptions, Mondays and months agree with Foundation's calendar (property)")
    func calendarArithmetic() {
        var random = SeededRandom(seed: 1970)
        let low = Civil.dayNumber(1600, 3, 1)
        let high = Civil.dayNumber(9999, 12, 31)
        let samples = (0..<3_000).map { _ in Int.random(in: low...high, using: &random) } + [low, high, 0, -1, 59, 60, 11_016, 10_957]
        for number in samples {
            let date = LocalDate(dayNumber: number)
            #expect(date.description == Civil.text(of: number))
            #expect(LocalDate(date.description) == date)
            #expect(date.startOfWeek.dayNumber == Civil.monday(of: number), "\(date)")
            #expect(date.startOfMonth.dayNumber == Civil.firstOfMonth(of: number), "\(date)")
            #expect(date.adding(days: 40).dayNumber == number + 40)
        }
    }

    @Test("an instant's local day is the one Foundation's calendar gives, in every zone (property)", arguments: testZones)
    func localDayOfInstant(identifier: String) {
        let zone = Self.zone(identifier)
        let calendar = Civil.calendar(in: zone)
        var random = SeededRandom(seed: UInt64(identifier.utf8.reduce(0) { $0 &* 31 &+ Int($1) }.magnitude))
        for _ in 0..<1_000 {
            let ms = Int64.random(in: Civil.utcMs(2000, 1, 1)...Civil.utcMs(2030, 1, 1), using: &random)
            #expect(LocalDate(ms: ms, timeZone: zone).dayNumber == Civil.localDay(ms: ms, in: calendar), "\(ms)")
        }
    }

    @Test("a day starts at its first instant: local midnight, or the first moment after it when midnight is skipped", arguments: testZones)
    func startOfDay(identifier: String) {
        let zone = Self.zone(identifier)
        let calendar = Civil.calendar(in: zone)
        // Every day of 2008…2027 would be slow; every day around each offset change, and a sample of the rest.
        var days = Set<Int>()
        var date = Civil.date(ms: Civil.utcMs(2008, 1, 1))
        while let change = zone.nextDaylightSavingTimeTransition(after: date), change < Civil.date(ms: Civil.utcMs(2028, 1, 1)) {
            let day = Civil.localDay(ms: Civil.ms(of: change), in: calendar)
            days.formUnion((day - 1)...(day + 1))
            date = change
        }
        days.formUnion(stride(from: Civil.dayNumber(2008, 1, 1), to: Civil.dayNumber(2028, 1, 1), by: 37))
        // Changes of standard offset and Apia's skipped day, in case the search above does not count them as transitions.
        for (year, month, day) in [(2011, 12, 30), (2015, 8, 15), (2018, 5, 4), (2016, 5, 1), (2018, 10, 28), (2020, 12, 27)] {
            let number = Civil.dayNumber(year, month, day)
            days.formUnion((number - 1)...(number + 1))
        }
        for number in days.sorted() {
            let start = LocalDate(dayNumber: number).startMs(in: zone)
            let context = Comment(rawValue: "\(identifier) \(Civil.text(of: number))")
            let check = {
                #expect(Civil.localDay(ms: start, in: calendar) >= number, context)
                #expect(Civil.localDay(ms: start - 1, in: calendar) < number, context)
                #expect(start == Civil.ms(of: calendar.startOfDay(for: Civil.date(ms: start))) || Civil.localDay(ms: start, in: calendar) > number, context)
            }
            if Self.skipsMidnightEastOfUTC(number, calendar) {
                withKnownIssue("startMs(in:) settles on the previous day's last hour", check)
            } else {
                check()
            }
        }
    }

    /// Whether the clocks jump forward at the day's midnight (so it begins at 01:00) from an offset east of UTC. There
    /// `LocalDate.startMs(in:)` alternates between the two offsets and stops on the wrong one: an hour early.
    static func skipsMidnightEastOfUTC(_ number: Int, _ calendar: Calendar) -> Bool {
        let (year, month, day) = Civil.parts(of: number)
        guard let first = calendar.date(from: DateComponents(year: year, month: month, day: day)) else { return false }
        let parts = calendar.dateComponents([.day, .hour, .minute], from: first)
        return parts.day == day && (parts.hour != 0 || parts.minute != 0) && calendar.timeZone.secondsFromGMT(for: first.addingTimeInterval(-1)) > 0
    }

    @Test("half and quarter-hour offsets: Kolkata (+5:30), Kathmandu (+5:45), St John's (−3:30), Chatham (+13:45)")
    func fractionalOffsets() {
        // 2026-01-10: Kolkata's midnight is 18:30 UTC, Kathmandu's 18:15, Chatham's (daylight time) 10:15, St John's 03:30
        // the next day.
        let cases: [(zone: String, lastOfTenth: Int64, firstOfEleventh: Int64)] = [
            ("Asia/Kolkata", Civil.utcMs(2026, 1, 10, 18, 29, 59), Civil.utcMs(2026, 1, 10, 18, 30)),
            ("Asia/Kathmandu", Civil.utcMs(2026, 1, 10, 18, 14, 59), Civil.utcMs(2026, 1, 10, 18, 15)),
            ("Pacific/Chatham", Civil.utcMs(2026, 1, 10, 10, 14, 59), Civil.utcMs(2026, 1, 10, 10, 15)),
            ("America/St_Johns", Civil.utcMs(2026, 1, 11, 3, 29, 59), Civil.utcMs(2026, 1, 11, 3, 30)),
        ]
        for (identifier, lastOfTenth, firstOfEleventh) in cases {
            let zone = Self.zone(identifier)
            #expect(LocalDate(ms: lastOfTenth, timeZone: zone) == Self.day("2026-01-10"), "\(identifier)")
            #expect(LocalDate(ms: firstOfEleventh, timeZone: zone) == Self.day("2026-01-11"), "\(identifier)")
            #expect(Self.day("2026-01-11").startMs(in: zone) == firstOfEleventh, "\(identifier)")
            // Through the roll-ups: the two sessions a second apart are on two local days.
            let days = Self.activeDays([lastOfTenth, firstOfEleventh], zone: zone, first: "2026-01-09", last: "2026-01-12")
            #expect(days == ["2026-01-10", "2026-01-11"], "\(identifier)")
        }
    }

    @Test("Europe/Rome's daylight-saving changes (last Sunday of March and of October) keep sessions on their local day")
    func romeDaylightSaving() {
        let rome = Self.zone("Europe/Rome")
        // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC, a 23-hour day.
        #expect(Self.day("2026-03-29").startMs(in: rome) == Civil.utcMs(2026, 3, 28, 23))
        #expect(Self.day("2026-03-30").startMs(in: rome) == Civil.utcMs(2026, 3, 29, 22))
        // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC, a 25-hour day.
        #expect(Self.day("2026-10-25").startMs(in: rome) == Civil.utcMs(2026, 10, 24, 22))
        #expect(Self.day("2026-10-26").startMs(in: rome) == Civil.utcMs(2026, 10, 25, 23))

        let march: [(Int64, String)] = [
            (Civil.utcMs(2026, 3, 28, 22, 59, 59), "2026-03-28"),  // 23:59:59 CET
            (Civil.utcMs(2026, 3, 28, 23), "2026-03-29"),  // 00:00 CET
            (Civil.utcMs(2026, 3, 29, 0, 59, 59), "2026-03-29"),  // 01:59:59 CET
            (Civil.utcMs(2026, 3, 29, 1), "2026-03-29"),  // 03:00 CEST
            (Civil.utcMs(2026, 3, 29, 21, 59, 59), "2026-03-29"),  // 23:59:59 CEST
            (Civil.utcMs(2026, 3, 29, 22), "2026-03-30"),  // 00:00 CEST
        ]
        let october: [(Int64, String)] = [
            (Civil.utcMs(2026, 10, 24, 21, 59, 59), "2026-10-24"),  // 23:59:59 CEST
            (Civil.utcMs(2026, 10, 24, 22), "2026-10-25"),  // 00:00 CEST
            (Civil.utcMs(2026, 10, 25, 0, 30), "2026-10-25"),  // 02:30 CEST
            (Civil.utcMs(2026, 10, 25, 1, 30), "2026-10-25"),  // 02:30 CET, the second time
            (Civil.utcMs(2026, 10, 25, 22, 59, 59), "2026-10-25"),  // 23:59:59 CET
            (Civil.utcMs(2026, 10, 25, 23), "2026-10-26"),  // 00:00 CET
        ]
        for (ms, expected) in march + october {
            #expect(LocalDate(ms: ms, timeZone: rome).description == expected, "\(ms)")
        }
        #expect(Self.activeDays(march.map(\.0), zone: rome, first: "2026-03-27", last: "2026-03-31") == ["2026-03-28", "2026-03-29", "2026-03-30"])
        #expect(Self.activeDays(october.map(\.0), zone: rome, first: "2026-10-23", last: "2026-10-27") == ["2026-10-24", "2026-10-25", "2026-10-26"])

        // A session every 15 minutes of each changing day: 92 of them on the 23-hour day, 100 on the 25-hour one.
        for (text, slots) in [("2026-03-29", 92), ("2026-10-25", 100)] {
            let start = Self.day(text).startMs(in: rome)
            let starts = (0..<(slots + 2)).map { start + Int64($0 - 1) * 900_000 }
            let sessions = starts.enumerated().map { ExerciseSession(id: Int64($0.offset), userID: "u", sport: .ride, startedAtMs: $0.element, durationS: 60) }
            let first = Self.day(text).adding(days: -1)
            let last = Self.day(text).adding(days: 1)
            let rows = Oracle.storeRows(sessions, first: first, last: last, zone: rome)
            let statistics = Statistics.compute(days: rows, first: first, last: last, bucket: .day, today: last)
            #expect(statistics.series.map(\.totals.count) == [1, slots, 1], "\(text)")
            #expect(statistics.currentStreakDays == 3 && statistics.longestStreakDays == 3, "\(text)")
        }
    }

    @Test("the stretches of constant offset cover the range without gaps, each with the zone's offset", arguments: testZones)
    func constantOffsetStretches(identifier: String) {
        let zone = Self.zone(identifier)
        var random = SeededRandom(seed: 99)
        // St John's changed its clocks at 00:01 until 2011, inside a 15-minute slot: see the known issue below.
        let since = identifier == "America/St_Johns" ? Civil.dayNumber(2012, 1, 1) : Civil.dayNumber(2008, 1, 1)
        for _ in 0..<40 {
            let first = LocalDate(dayNumber: Int.random(in: since...Civil.dayNumber(2027, 1, 1), using: &random))
            let last = first.adding(days: Int.random(in: 0...500, using: &random))
            let start = first.startMs(in: zone)
            let end = last.adding(days: 1).startMs(in: zone)
            let stretches = SessionStore.constantOffsetStretches(from: start, to: end, timeZone: zone)
            let context = Comment(rawValue: "\(identifier) \(first)…\(last)")
            #expect(stretches.first?.slots.lowerBound == Rollup.slot(of: start), context)
            #expect(stretches.last.map { $0.slots.upperBound + 1 } == Rollup.slot(of: end), context)
            for (before, after) in zip(stretches, stretches.dropFirst()) {
                #expect(before.slots.upperBound + 1 == after.slots.lowerBound, context)
            }
            for stretch in stretches {
                for slot in [stretch.slots.lowerBound, stretch.slots.upperBound] {
                    let offset = Int64(zone.secondsFromGMT(for: Civil.date(ms: slot * Rollup.slotMs))) * 1000
                    #expect(offset == stretch.offsetMs, "slot \(slot) \(context)")
                }
            }
        }
    }

    @Test("statistics up to the day before Tehran's clocks went forward at midnight include that day's last hour")
    func tehranLastHour() {
        let tehran = Self.zone("Asia/Tehran")
        // 2021-03-21 23:30 in Tehran (+3:30); at midnight the clocks went to 01:00 (+4:30).
        let lateOnTheTwentyFirst = Civil.utcMs(2021, 3, 21, 20)
        #expect(Civil.localDay(ms: lateOnTheTwentyFirst, in: Civil.calendar(in: tehran)) == Civil.dayNumber(2021, 3, 21))
        #expect(LocalDate(ms: lateOnTheTwentyFirst, timeZone: tehran) == Self.day("2021-03-21"))
        // The range ends at the start of the 22nd, which startMs(in:) puts at 23:00 on the 21st.
        withKnownIssue("the session is left out: the range ends an hour early") {
            #expect(Self.activeDays([lateOnTheTwentyFirst], zone: tehran, first: "2021-03-20", last: "2021-03-21") == ["2021-03-21"])
        }
    }

    @Test("a session in the first minute of St John's 2008 fall-back day is on that day")
    func stJohnsFallBack() {
        let stJohns = Self.zone("America/St_Johns")
        // 2008-11-02 00:00:30 NDT (−2:30); at 00:01 NDT the clocks went back to 23:01 NST (−3:30) on the 1st. The
        // slot from 00:00 NDT holds both sides of the change, and the stretch after the change claims it whole.
        let justAfterMidnight = Civil.utcMs(2008, 11, 2, 2, 30, 30)
        #expect(Civil.localDay(ms: justAfterMidnight, in: Civil.calendar(in: stJohns)) == Civil.dayNumber(2008, 11, 2))
        #expect(LocalDate(ms: justAfterMidnight, timeZone: stJohns) == Self.day("2008-11-02"))
        withKnownIssue("the roll-ups put it on 2008-11-01") {
            #expect(Self.activeDays([justAfterMidnight], zone: stJohns, first: "2008-11-01", last: "2008-11-02") == ["2008-11-02"])
        }
    }
}
