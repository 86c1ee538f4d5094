import Foundation
import Testing

@testable import Queues

/// Opening hours, shifts, the forecast and Erlang C staffing: the pure rules, exhaustively and by properties.
@Suite("Opening hours and shifts")
struct ScheduleTests {
    static let rome = "Europe/Rome"

    static func date(_ text: String) -> LocalDate { LocalDate(text)! }
    static func time(_ text: String) -> TimeOfDay { TimeOfDay(text)! }
    static func range(_ from: String, _ to: String) -> TimeRange { TimeRange(from: time(from), to: time(to)) }
    /// Milliseconds of an ISO 8601 instant.
    static func at(_ text: String) -> Int64 { Int64(ISO8601DateFormatter().date(from: text)!.timeIntervalSince1970 * 1000) }

    /// Weekdays 08:30–12:30 and 14:00–17:00, Saturday mornings; tickets stop 15 minutes before closing.
    static let hours = OpeningHours(
        week: [
            .mon: [range("08:30", "12:30"), range("14:00", "17:00")], .tue: [range("08:30", "12:30"), range("14:00", "17:00")],
            .wed: [range("08:30", "12:30"), range("14:00", "17:00")], .thu: [range("08:30", "12:30"), range("14:00", "17:00")],
            .fri: [range("08:30", "12:30"), range("14:00", "17:00")], .sat: [range("09:00", "12:00")],
        ],
        specialDays: [
            SpecialDay(date: date("2026-12-08"), name: "Immacolata", hours: []),
            SpecialDay(date: date("2026-12-24"), name: "Christmas Eve", hours: [range("08:30", "12:00")]),
        ],
        lastTicketMinutes: 15
    )

    @Test("every date from 1900 to 2100 reads back as written, on the weekday the calendar gives")
    func datesRoundTrip() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = LocalDate("1900-01-01")!.daysSinceEpoch
        let end = LocalDate("2100-12-31")!.daysSinceEpoch
        for days in stride(from: start, through: end, by: 1) {
            let date = LocalDate(daysSinceEpoch: days)
            #expect(LocalDate(date.description) == date)
            if days % 97 == 0 {
                let weekday = calendar.component(.weekday, from: Date(timeIntervalSince1970: Double(days) * 86_400))
                #expect(Weekday.allCases[(weekday + 5) % 7] == date.weekday, "\(date)")
            }
        }
        #expect(LocalDate("2026-12-01")?.weekday == .tue)
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "20261201", "2026-12-32", ""] { #expect(LocalDate(bad) == nil, "\(bad)") }
        #expect(LocalDate("2028-02-29") != nil)
        for bad in ["24:01", "7:30", "08:60", "x8:00"] { #expect(TimeOfDay(bad) == nil, "\(bad)") }
    }

    @Test("open, at lunch, in the last minutes, on a holiday and on a day with its own hours")
    func openingStatus() throws {
        let hours = try Self.hours.checked()
        // Tuesday 1 December 2026, Rome is UTC+1.
        let morning = hours.status(atMs: Self.at("2026-12-01T09:00:00Z"), timeZone: Self.rome)
        #expect(morning.isOpen && morning.takesTickets && morning.closesAtMs == Self.at("2026-12-01T11:30:00Z"))
        let lastMinutes = hours.status(atMs: Self.at("2026-12-01T11:20:00Z"), timeZone: Self.rome)
        #expect(lastMinutes.isOpen && !lastMinutes.takesTickets)
        #expect(throws: QueueRuleViolation.branchStopsTickets(minutes: 15, closesAt: "2026-12-01T11:30:00.000Z")) {
            try hours.checkTakesTickets(atMs: Self.at("2026-12-01T11:20:00Z"), timeZone: Self.rome)
        }
        let lunch = hours.status(atMs: Self.at("2026-12-01T12:00:00Z"), timeZone: Self.rome)
        #expect(!lunch.isOpen && lunch.nextOpeningMs == Self.at("2026-12-01T13:00:00Z"))
        // Saturday afternoon: next is Monday 7 December (Sunday closed).
        let saturday = hours.status(atMs: Self.at("2026-12-05T14:00:00Z"), timeZone: Self.rome)
        #expect(!saturday.isOpen && saturday.nextOpeningMs == Self.at("2026-12-07T07:30:00Z"))
        // The Immacolata holiday (a Tuesday) is closed all day; it opens again on Wednesday.
        #expect(throws: QueueRuleViolation.branchClosedNow(specialDay: "Immacolata", opensAt: "2026-12-09T07:30:00.000Z")) {
            try hours.checkTakesTickets(atMs: Self.at("2026-12-08T10:00:00Z"), timeZone: Self.rome)
        }
        // Christmas Eve closes at noon instead of 12:30, and has no afternoon.
        let eve = hours.status(atMs: Self.at("2026-12-24T10:00:00Z"), timeZone: Self.rome)
        #expect(eve.isOpen && eve.closesAtMs == Self.at("2026-12-24T11:00:00Z") && eve.specialDay == "Christmas Eve")
        #expect(!hours.status(atMs: Self.at("2026-12-24T13:30:00Z"), timeZone: Self.rome).isOpen)
        #expect(OpeningHours(week: [:]).status(atMs: 0, timeZone: Self.rome).nextOpeningMs == nil)
        // Ranges that touch are one opening: tickets stop before the real closing, across midnight too.
        let allDay = try OpeningHours(
            week: [.mon: [Self.range("08:00", "12:00"), Self.range("12:00", "24:00")], .tue: [Self.range("00:00", "06:00")]],
            lastTicketMinutes: 15
        ).checked()
        let noon = allDay.status(atMs: Self.at("2026-11-30T10:55:00Z"), timeZone: Self.rome)
        #expect(noon.takesTickets && noon.closesAtMs == Self.at("2026-12-01T05:00:00Z"))
    }

    @Test("hours that overlap, end before they start, repeat a date or ask too much are refused with the reason")
    func badHours() {
        let cases: [(OpeningHours, ScheduleRuleViolation)] = [
            (
                OpeningHours(week: [.mon: [Self.range("08:00", "12:00"), Self.range("11:00", "13:00")]]),
                .overlappingHours(day: "mon", first: "08:00–12:00", second: "11:00–13:00")
            ),
            (OpeningHours(week: [.tue: [Self.range("12:00", "08:00")]]), .emptyRange(day: "tue", range: "12:00–08:00")),
            (OpeningHours(week: [.wed: Array(repeating: Self.range("08:00", "09:00"), count: 5)]), .tooManyRanges(day: "wed", limit: 4)),
            (
                OpeningHours(
                    week: [:],
                    specialDays: [
                        SpecialDay(date: Self.date("2026-12-25"), name: "A", hours: []), SpecialDay(date: Self.date("2026-12-25"), name: "B", hours: []),
                    ]
                ),
                .specialDayTwice("2026-12-25")
            ),
            (
                OpeningHours(week: [:], specialDays: [SpecialDay(date: Self.date("2026-12-25"), name: " ", hours: [])]),
                .badName(field: "special day 2026-12-25")
            ),
            (OpeningHours(week: [:], lastTicketMinutes: 241), .lastTicketOutOfRange(241)),
        ]
        for (hours, violation) in cases {
            #expect(throws: violation) { try hours.checked() }
        }
    }

    @Test("on the days the clocks change in Rome, a shift lasts what the clocks say and starts when they show its time")
    func daylightSaving() {
        let early = ShiftTemplate(id: 1, branchID: 1, name: "Night", hours: Self.range("00:00", "06:00"), weekdays: Set(Weekday.allCases))
        let day = ShiftTemplate(id: 2, branchID: 1, name: "Day", hours: Self.range("08:00", "14:00"), weekdays: Set(Weekday.allCases))
        let roster = Roster(
            templates: [early, day],
            assignments: [
                ShiftAssignment(id: 1, branchID: 1, templateID: 1, userID: 1, queueID: 1, firstDate: Self.date("2026-03-23"), lastDate: nil),
                ShiftAssignment(id: 2, branchID: 1, templateID: 2, userID: 2, queueID: 2, firstDate: Self.date("2026-03-23"), lastDate: nil),
            ]
        )
        func shifts(_ from: String, _ through: String) -> [String: [Int64]] {
            roster.shifts(from: Self.date(from), through: Self.date(through), hours: nil, timeZone: Self.rome).reduce(into: [:]) {
                $0["\($1.date) \($1.templateID)"] = [$1.startMs, $1.endMs - $1.startMs]
            }
        }
        let spring = shifts("2026-03-23", "2026-03-30")
        #expect(spring.count == 16)
        #expect(spring["2026-03-28 2"] == [Self.at("2026-03-28T07:00:00Z"), 6 * 3_600_000])
        #expect(spring["2026-03-29 2"] == [Self.at("2026-03-29T06:00:00Z"), 6 * 3_600_000])
        #expect(spring["2026-03-29 1"] == [Self.at("2026-03-28T23:00:00Z"), 5 * 3_600_000])
        #expect(spring["2026-03-30 1"]?[1] == Int64(6 * 3_600_000))
        let autumn = shifts("2026-10-24", "2026-10-26")
        #expect(autumn["2026-10-25 1"] == [Self.at("2026-10-24T22:00:00Z"), 7 * 3_600_000])
        #expect(autumn["2026-10-25 2"] == [Self.at("2026-10-25T07:00:00Z"), 6 * 3_600_000])
        #expect(autumn["2026-10-26 2"]?[0] == Self.at("2026-10-26T07:00:00Z"))
    }

    @Test("random plans: an assignment is refused exactly when its staff member would work two shifts at once", arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func doubleBookingProperty(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        // A window across the spring DST change; half-hour templates between 06:00 and 22:00.
        let origin = Self.date("2026-03-16")
        let templates = (1...6).map { id in
            let start = Int.random(in: 12...40, using: &random) * 30
            let length = Int.random(in: 1...16, using: &random) * 30
            let weekdays = Set(Weekday.allCases.filter { _ in Bool.random(using: &random) })
            return ShiftTemplate(
                id: Int64(id),
                branchID: 1,
                name: "T\(id)",
                hours: TimeRange(from: TimeOfDay(minutes: start)!, to: TimeOfDay(minutes: min(start + length, 22 * 60))!),
                weekdays: weekdays.isEmpty ? [.mon] : weekdays
            )
        }
        var roster = Roster(templates: templates)
        var accepted = 0
        var refused = 0
        for id in 1...60 {
            let first = origin.adding(days: Int.random(in: 0...27, using: &random))
            let candidate = ShiftAssignment(
                id: Int64(id),
                branchID: 1,
                templateID: Int64.random(in: 1...6, using: &random),
                userID: Int64.random(in: 1...3, using: &random),
                queueID: Int64.random(in: 1...4, using: &random),
                firstDate: first,
                lastDate: Bool.random(using: &random) ? nil : first.adding(days: Int.random(in: 0...20, using: &random))
            )
            // Brute force: the candidate's shifts against the same person's, instant by instant, far past every date.
            let horizon = origin.adding(days: 70)
            let mine = Roster(templates: templates, assignments: [candidate]).shifts(from: origin, through: horizon, hours: nil, timeZone: Self.rome)
            let theirs = roster.shifts(from: origin, through: horizon, hours: nil, timeZone: Self.rome).filter { $0.userID == candidate.userID }
            let clashes = mine.contains { shift in theirs.contains { $0.overlaps(shift) } }
            do {
                try roster.check(candidate)
                #expect(!clashes, "seed \(seed): assignment \(id) was accepted but clashes")
                roster.assignments.append(candidate)
                accepted += 1
            } catch let violation {
                guard case .doubleBooked = violation else {
                    Issue.record("unexpected \(violation)")
                    continue
                }
                #expect(clashes, "seed \(seed): assignment \(id) was refused without a clash")
                refused += 1
            }
        }
        #expect(accepted > 0 && refused > 0, "seed \(seed): the run tried both kinds (\(accepted) accepted, \(refused) refused)")
        // Whatever was accepted, nobody works two shifts at once.
        let all = roster.shifts(from: origin, through: origin.adding(days: 70), hours: nil, timeZone: Self.rome)
        for user in 1...3 {
            let own = all.filter { $0.userID == Int64(user) }
            for (index, shift) in own.enumerated() { #expect(!own[(index + 1)...].contains { $0.overlaps(shift) }) }
        }
    }

    @Test("absences drop shifts, swaps hand them to a colleague, holidays close them; a swap may not double-book or use someone away")
    func absencesAndSwaps() throws {
        let morning = ShiftTemplate(id: 1, branchID: 1, name: "Morning", hours: Self.range("08:30", "12:30"), weekdays: [.mon, .tue, .wed, .thu, .fri])
        let late = ShiftTemplate(id: 2, branchID: 1, name: "Late", hours: Self.range("12:00", "17:00"), weekdays: [.mon, .tue, .wed, .thu, .fri])
        var roster = Roster(
            templates: [morning, late],
            assignments: [
                ShiftAssignment(id: 1, branchID: 1, templateID: 1, userID: 10, queueID: 1, firstDate: Self.date("2026-11-30"), lastDate: nil),
                ShiftAssignment(id: 2, branchID: 1, templateID: 2, userID: 11, queueID: 2, firstDate: Self.date("2026-11-30"), lastDate: nil),
            ],
            absences: [Absence(id: 1, branchID: 1, userID: 10, firstDate: Self.date("2026-12-02"), lastDate: Self.date("2026-12-03"), reason: "Leave")]
        )
        let week = { roster.shifts(from: Self.date("2026-11-30"), through: Self.date("2026-12-06"), hours: Self.hours, timeZone: Self.rome) }
        // Ten shifts less two days of leave less the holiday on Tuesday 8th (not in this week): 8.
        #expect(week().filter { $0.userID == 10 }.map(\.date.description) == ["2026-11-30", "2026-12-01", "2026-12-04"])
        #expect(week().count == 8)
        // 11 works 12:00–17:00: covering 10's morning on Wednesday overlaps half an hour.
        let clash = ShiftSwap(id: 1, branchID: 1, assignmentID: 1, date: Self.date("2026-12-02"), substituteID: 11)
        #expect(throws: ScheduleRuleViolation.doubleBooked(user: 11, date: "2026-12-02", shift: "Late", hours: "12:00–17:00")) {
            try roster.check(clash, hours: Self.hours, timeZone: Self.rome)
        }
        let cover = ShiftSwap(id: 2, branchID: 1, assignmentID: 1, date: Self.date("2026-12-02"), substituteID: 12)
        try roster.check(cover, hours: Self.hours, timeZone: Self.rome)
        roster.swaps.append(cover)
        let covered = try #require(week().first { $0.date == Self.date("2026-12-02") && $0.assignmentID == 1 })
        #expect(covered.userID == 12 && covered.swappedFrom == 10)
        #expect(throws: ScheduleRuleViolation.alreadySwapped(date: "2026-12-02")) { try roster.check(cover, hours: Self.hours, timeZone: Self.rome) }
        #expect(throws: ScheduleRuleViolation.swapWithSelf) {
            try roster.check(
                ShiftSwap(id: 3, branchID: 1, assignmentID: 1, date: Self.date("2026-12-04"), substituteID: 10),
                hours: Self.hours,
                timeZone: Self.rome
            )
        }
        #expect(throws: ScheduleRuleViolation.noShiftThatDay(date: "2026-12-05")) {
            try roster.check(
                ShiftSwap(id: 3, branchID: 1, assignmentID: 1, date: Self.date("2026-12-05"), substituteID: 12),
                hours: Self.hours,
                timeZone: Self.rome
            )
        }
        roster.absences.append(Absence(id: 2, branchID: 1, userID: 12, firstDate: Self.date("2026-12-04"), lastDate: Self.date("2026-12-04"), reason: ""))
        #expect(throws: ScheduleRuleViolation.substituteAway(user: 12, date: "2026-12-04")) {
            try roster.check(
                ShiftSwap(id: 3, branchID: 1, assignmentID: 1, date: Self.date("2026-12-04"), substituteID: 12),
                hours: Self.hours,
                timeZone: Self.rome
            )
        }
        // 12, covering Wednesday's morning, cannot also take a late shift that day.
        let afternoon = ShiftAssignment(
            id: 3,
            branchID: 1,
            templateID: 2,
            userID: 12,
            queueID: 2,
            firstDate: Self.date("2026-12-02"),
            lastDate: Self.date("2026-12-02")
        )
        #expect(throws: ScheduleRuleViolation.doubleBooked(user: 12, date: "2026-12-02", shift: "Morning", hours: "08:30–12:30")) {
            try roster.check(afternoon)
        }
        // The holiday: nobody works on Tuesday 8 December.
        #expect(roster.shifts(from: Self.date("2026-12-08"), through: Self.date("2026-12-08"), hours: Self.hours, timeZone: Self.rome).isEmpty)
        // Counters per half hour: at 12:00–12:30 both counters are worked.
        let monday = roster.shifts(from: Self.date("2026-11-30"), through: Self.date("2026-11-30"), hours: Self.hours, timeZone: Self.rome)
        let slots = [Self.at("2026-11-30T07:00:00Z"), Self.at("2026-11-30T07:30:00Z"), Self.at("2026-11-30T11:00:00Z"), Self.at("2026-11-30T16:00:00Z")]
        #expect(Roster.countersPerSlot(monday, slots: slots) == [0, 1, 2, 0])
    }

    @Test("a template must fit the opening hours of each of its weekdays, with half an hour either side")
    func templatesWithinHours() throws {
        func template(_ from: String, _ to: String, _ days: Set<Weekday>) -> ShiftTemplate {
            ShiftTemplate(id: 0, branchID: 1, name: "Shift", hours: Self.range(from, to), weekdays: days)
        }
        try Roster.check(template("08:00", "13:00", [.mon, .fri]), hours: Self.hours)
        try Roster.check(template("08:00", "17:30", [.tue]), hours: Self.hours)
        try Roster.check(template("08:00", "17:30", [.sun]), hours: nil)
        #expect(throws: ScheduleRuleViolation.shiftOnClosedDay(shift: "Shift", weekday: "sun")) {
            try Roster.check(template("09:00", "12:00", [.sat, .sun]), hours: Self.hours)
        }
        #expect(throws: ScheduleRuleViolation.shiftOutsideHours(shift: "Shift", hours: "07:59–12:00", weekday: "mon", open: "08:30–12:30, 14:00–17:00")) {
            try Roster.check(template("07:59", "12:00", [.mon]), hours: Self.hours)
        }
        #expect(throws: ScheduleRuleViolation.shiftOutsideHours(shift: "Shift", hours: "09:00–13:00", weekday: "sat", open: "09:00–12:00")) {
            try Roster.check(template("09:00", "13:00", [.fri, .sat]), hours: Self.hours)
        }
        #expect(throws: ScheduleRuleViolation.noWeekdays) { try Roster.check(template("09:00", "12:00", []), hours: nil) }
        #expect(throws: ScheduleRuleViolation.emptyRange(day: "the shift", range: "12:00–12:00")) {
            try Roster.check(template("12:00", "12:00", [.mon]), hours: nil)
        }
    }

    // MARK: Forecast and Erlang C

    @Test("Erlang C matches the published worked example and the closed forms")
    func erlangC() throws {
        // Call Centre Helper's "Erlang C formula made simple" worked example: 100 calls per half hour of 180 s (10
        // erlangs), 80% answered within 20 s. With 11 agents a call waits with probability 68.21% and 122.8 s on
        // average, and 39% are answered in time; 14 agents are needed.
        let rate = 100.0 / 1800
        let erlang = try #require(WaitEstimate.erlangC(arrivalsPerSecond: rate, serviceSeconds: 180, servers: 11))
        #expect(abs(erlang.probabilityOfWaiting - 0.6821) < 0.00005)
        #expect(abs(erlang.expectedWaitSeconds - 122.8) < 0.05)
        #expect(abs(Staffing.serviceLevel(arrivalsPerSecond: rate, serviceSeconds: 180, servers: 11, targetWaitSeconds: 20) - 0.39) < 0.005)
        #expect(Staffing.countersNeeded(arrivalsPerSecond: rate, serviceSeconds: 180, targetWaitSeconds: 20, level: 0.8) == 14)
        // Two erlangs on three servers: C = (8/6 · 3) / (1 + 2 + 2 + 4) = 4/9.
        #expect(abs((WaitEstimate.erlangC(arrivalsPerSecond: 2, serviceSeconds: 1, servers: 3)?.probabilityOfWaiting ?? 0) - 4.0 / 9) < 1e-12)
        // One server: M/M/1, the chance of waiting is the load.
        #expect(abs((WaitEstimate.erlangC(arrivalsPerSecond: 0.7, serviceSeconds: 1, servers: 1)?.probabilityOfWaiting ?? 0) - 0.7) < 1e-12)
        // The counters needed are the fewest that reach the level: one fewer does not.
        for (rate, service, target, level) in [(360.0 / 1800, 240.0, 15.0, 0.8), (0.02, 300, 600, 0.9), (0.005, 600, 300, 0.8), (1.5, 120, 20, 0.95)] {
            let needed = Staffing.countersNeeded(arrivalsPerSecond: rate, serviceSeconds: service, targetWaitSeconds: target, level: level)
            #expect(Staffing.serviceLevel(arrivalsPerSecond: rate, serviceSeconds: service, servers: needed, targetWaitSeconds: target) >= level)
            #expect(Staffing.serviceLevel(arrivalsPerSecond: rate, serviceSeconds: service, servers: needed - 1, targetWaitSeconds: target) < level)
        }
        #expect(Staffing.countersNeeded(arrivalsPerSecond: 0, serviceSeconds: 240, targetWaitSeconds: 15, level: 0.8) == 0)
    }

    @Test("a known weekly pattern with noise and a trend is forecast with a daily MAPE within 10% on two held-out weeks", arguments: [11, 12, 13] as [UInt64])
    func forecastError(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let history = SyntheticArrivals.history(weeks: 10, start: Self.date("2026-09-07"), growthPerWeek: 0.01, random: &random)
        let start = Self.date("2026-09-07").adding(days: 56)
        let dates = (0..<14).map { start.adding(days: $0) }
        let known = history.filter { $0.key < start }
        let forecast = ArrivalForecast.forecast(history: known, start: start, dates: dates)
        let open = dates.filter(SyntheticArrivals.isOpen)
        let predicted = open.map { forecast[$0]!.reduce(0, +) }
        let actual = open.map { history[$0]!.reduce(0, +) }
        let truth = open.map { date in
            (0..<48).reduce(0.0) {
                $0 + SyntheticArrivals.expected(date, slot: $1, week: (date.daysSinceEpoch - Self.date("2026-09-07").daysSinceEpoch) / 7, growthPerWeek: 0.01)
            }
        }
        let error = try #require(ArrivalForecast.meanAbsolutePercentageError(forecast: predicted, actual: actual))
        #expect(error <= 0.10, "seed \(seed): daily MAPE \(error)")
        // Against the pattern itself (no noise in the held-out days), the method is closer still.
        let methodError = zip(predicted, truth).map { abs($0 - $1) / $1 }.reduce(0, +) / Double(open.count)
        #expect(methodError <= 0.05, "seed \(seed): daily error against the true pattern \(methodError)")
        // A flat history forecasts itself.
        let flat = Dictionary(uniqueKeysWithValues: (0..<56).map { (start.adding(days: -56 + $0), Array(repeating: 2, count: 48)) })
        #expect(ArrivalForecast.forecast(history: flat, start: start, dates: [start])[start] == Array(repeating: 2.0, count: 48))
    }
}
