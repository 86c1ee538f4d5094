import Foundation
import Testing
import TurnoCore

@testable import Sessions

/// The rules a session keeps, each on both sides of its boundary.
@Suite("Sessions validation")
struct ValidationTests {
    /// 2026-03-02T00:00:00Z.
    static let now: Int64 = 1_772_409_600_000

    /// A plausible run: every field set, every rule kept.
    static let valid = SessionFields(
        userID: "athlete-1",
        sport: "run",
        startedAt: "2026-03-01T07:30:00Z",
        durationS: 3_600,
        distanceM: 10_000,
        caloriesKcal: 700,
        avgHrBpm: 150,
        maxHrBpm: 180,
        elevationGainM: 120,
        notes: "easy",
        externalID: "garmin:1"
    )

    static func fields(_ change: (inout SessionFields) -> Void) -> SessionFields {
        var fields = valid
        change(&fields)
        return fields
    }

    /// The rule `fields` break, nil when they keep them all.
    static func violation(_ fields: SessionFields, now: Int64 = now) -> SessionRuleViolation? {
        do {
            _ = try fields.validated(nowMs: now)
            return nil
        } catch {
            return error
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var fields: SessionFields
        var expected: SessionRuleViolation?

        init(_ name: String, _ expected: SessionRuleViolation?, _ change: (inout SessionFields) -> Void) {
            self.name = name
            self.fields = ValidationTests.fields(change)
            self.expected = expected
        }

        var testDescription: String { name }
    }

    static let missing: [Case] = [
        Case("no user_id", .missing("user_id")) { $0.userID = nil },
        Case("no sport", .missing("sport")) { $0.sport = nil },
        Case("no started_at", .missing("started_at")) { $0.startedAt = nil },
        Case("no duration_s", .missing("duration_s")) { $0.durationS = nil },
        Case("nothing at all: the first required field", .missing("user_id")) { $0 = SessionFields() },
        Case("no sport nor duration: sport comes first", .missing("sport")) {
            $0.sport = nil
            $0.durationS = nil
        },
        Case("a missing field before an invalid one", .missing("duration_s")) {
            $0.durationS = nil
            $0.avgHrBpm = 400
        },
        Case("optional fields may be absent", nil) {
            $0 = SessionFields(userID: "u", sport: "yoga", startedAt: "2026-03-01T07:30:00Z", durationS: 1)
        },
    ]

    static let userAndSport: [Case] = [
        Case("empty user_id", .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")) { $0.userID = "" },
        Case("user_id of 100 characters", nil) { $0.userID = String(repeating: "a", count: 100) },
        Case("user_id of 101 characters", .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")) {
            $0.userID = String(repeating: "a", count: 101)
        },
        Case("user_id of every allowed kind of character", nil) { $0.userID = "Az09-_.:@" },
        Case("user_id with a space", .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")) { $0.userID = "Ada Lovelace" },
        Case("user_id with a slash", .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")) { $0.userID = "team/7" },
        Case("user_id with a non-ASCII letter", .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")) {
            $0.userID = "josé"
        },
        Case("user_id with a non-ASCII digit", .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")) {
            $0.userID = "user٣"
        },
        Case("unknown sport", .unknownSport("running")) { $0.sport = "running" },
        Case("sports are lower case", .unknownSport("Run")) { $0.sport = "Run" },
        Case("empty sport", .unknownSport("")) { $0.sport = "" },
        Case("unknown sport before an implausible value", .unknownSport("ski")) {
            $0.sport = "ski"
            $0.distanceM = -1
        },
    ]

    static let startedAt: [Case] = [
        Case("not a time", .invalid("started_at", "`yesterday` is not an ISO-8601 time such as 2026-11-21T07:30:00Z")) { $0.startedAt = "yesterday" },
        Case("a date without a time", .invalid("started_at", "`2026-03-01` is not an ISO-8601 time such as 2026-11-21T07:30:00Z")) {
            $0.startedAt = "2026-03-01"
        },
        Case("fractional seconds and an offset", nil) { $0.startedAt = "2026-03-01T08:30:00.250+01:00" },
        Case("a minute in the future: clock skew", nil) { $0.startedAt = "2026-03-02T00:01:00Z" },
        Case("a minute and a millisecond in the future", .invalid("started_at", "is in the future")) { $0.startedAt = "2026-03-02T00:01:00.001Z" },
        Case("a minute in the future, written in another offset", .invalid("started_at", "is in the future")) { $0.startedAt = "2026-03-02T01:01:01+01:00" },
        Case("next year", .invalid("started_at", "is in the future")) { $0.startedAt = "2027-03-01T07:30:00Z" },
        Case("the first instant of 2000", nil) { $0.startedAt = "2000-01-01T00:00:00Z" },
        Case("the last millisecond of 1999", .invalid("started_at", "is before 2000")) { $0.startedAt = "1999-12-31T23:59:59.999Z" },
        Case("2000 in Rome, still 1999 in UTC", .invalid("started_at", "is before 2000")) { $0.startedAt = "2000-01-01T00:30:00+01:00" },
    ]

    static let duration: [Case] = [
        Case("no time at all", .invalid("duration_s", "must be between 1 second and 7 days, got 0")) {
            $0.durationS = 0
            $0.distanceM = nil
        },
        Case("negative", .invalid("duration_s", "must be between 1 second and 7 days, got -60")) { $0.durationS = -60 },
        Case("one second", nil) {
            $0.durationS = 1
            $0.distanceM = 7
        },
        Case("seven days", nil) { $0.durationS = 604_800 },
        Case("seven days and a second", .invalid("duration_s", "must be between 1 second and 7 days, got 604801")) { $0.durationS = 604_801 },
    ]

    static let distance: [Case] = [
        Case("no distance", nil) { $0.distanceM = nil },
        Case("zero metres", nil) { $0.distanceM = 0 },
        Case("a centimetre short of nothing", .invalid("distance_m", "must not be negative")) { $0.distanceM = -0.01 },
        Case("infinitely far", .invalid("distance_m", "must not be negative")) { $0.distanceM = .infinity },
        Case("not a number", .invalid("distance_m", "must not be negative")) { $0.distanceM = .nan },
        Case("a 100 km swim", .invalid("distance_m", "100 km is not a plausible swim")) {
            $0.sport = "swim"
            $0.distanceM = 100_000
            $0.durationS = 86_400
        },
        Case("a 100 km swim, too fast as well: the distance rule first", .invalid("distance_m", "100 km is not a plausible swim")) {
            $0.sport = "swim"
            $0.distanceM = 100_000
            $0.durationS = 60
        },
        Case("a run at 7 m/s", nil) {
            $0.distanceM = 7_000
            $0.durationS = 1_000
        },
        Case("a run faster than 7 m/s", .invalid("distance_m", "7001 m in 1000 s is faster than any run")) {
            $0.distanceM = 7_001
            $0.durationS = 1_000
        },
        Case("a marathon in two hours", nil) {
            $0.distanceM = 42_195
            $0.durationS = 7_200
        },
        Case("a marathon in an hour and a half", .invalid("distance_m", "42195 m in 5400 s is faster than any run")) {
            $0.distanceM = 42_195
            $0.durationS = 5_400
        },
    ]

    static let others: [Case] = [
        Case("no calories", nil) { $0.caloriesKcal = 0 },
        Case("negative calories", .invalid("calories_kcal", "must be between 0 and 20,000")) { $0.caloriesKcal = -1 },
        Case("20,000 kcal", nil) { $0.caloriesKcal = 20_000 },
        Case("20,000.5 kcal", .invalid("calories_kcal", "must be between 0 and 20,000")) { $0.caloriesKcal = 20_000.5 },
        Case("calories not a number", .invalid("calories_kcal", "must be between 0 and 20,000")) { $0.caloriesKcal = .nan },
        Case("no climb", nil) { $0.elevationGainM = 0 },
        Case("negative climb", .invalid("elevation_gain_m", "must be between 0 and 20,000 m")) { $0.elevationGainM = -0.5 },
        Case("20 km of climb", nil) { $0.elevationGainM = 20_000 },
        Case("more than 20 km of climb", .invalid("elevation_gain_m", "must be between 0 and 20,000 m")) { $0.elevationGainM = 20_000.1 },
        Case("climb not a number", .invalid("elevation_gain_m", "must be between 0 and 20,000 m")) { $0.elevationGainM = .nan },
        Case("average heart rate 25", nil) { $0.avgHrBpm = 25 },
        Case("average heart rate 24", .invalid("avg_hr_bpm", "24 bpm is not a human heart rate (25–250)")) { $0.avgHrBpm = 24 },
        Case("average heart rate 250", nil) {
            $0.avgHrBpm = 250
            $0.maxHrBpm = 250
        },
        Case("average heart rate 251", .invalid("avg_hr_bpm", "251 bpm is not a human heart rate (25–250)")) {
            $0.avgHrBpm = 251
            $0.maxHrBpm = nil
        },
        Case("average heart rate 400", .invalid("avg_hr_bpm", "400 bpm is not a human heart rate (25–250)")) { $0.avgHrBpm = 400 },
        Case("maximum heart rate 25", nil) {
            $0.avgHrBpm = 25
            $0.maxHrBpm = 25
        },
        Case("maximum heart rate 24", .invalid("max_hr_bpm", "24 bpm is not a human heart rate (25–250)")) {
            $0.avgHrBpm = nil
            $0.maxHrBpm = 24
        },
        Case("maximum heart rate 250", nil) { $0.maxHrBpm = 250 },
        Case("maximum heart rate 251", .invalid("max_hr_bpm", "251 bpm is not a human heart rate (25–250)")) { $0.maxHrBpm = 251 },
        Case("maximum heart rate 400", .invalid("max_hr_bpm", "400 bpm is not a human heart rate (25–250)")) { $0.maxHrBpm = 400 },
        Case("maximum heart rate alone", nil) {
            $0.avgHrBpm = nil
            $0.maxHrBpm = 190
        },
        Case("average heart rate alone", nil) {
            $0.avgHrBpm = 190
            $0.maxHrBpm = nil
        },
        Case("average heart rate equal to the maximum", nil) {
            $0.avgHrBpm = 180
            $0.maxHrBpm = 180
        },
        Case("average heart rate above the maximum", .invalid("avg_hr_bpm", "the average heart rate is above the maximum")) {
            $0.avgHrBpm = 181
            $0.maxHrBpm = 180
        },
        Case("2,000 characters of notes", nil) { $0.notes = String(repeating: "é", count: 2_000) },
        Case("2,001 characters of notes", .invalid("notes", "at most 2,000 characters")) { $0.notes = String(repeating: "a", count: 2_001) },
        Case("empty notes", nil) { $0.notes = "" },
        Case("empty external_id", .invalid("external_id", "must be 1–200 characters")) { $0.externalID = "" },
        Case("external_id of one character", nil) { $0.externalID = "x" },
        Case("external_id of 200 characters", nil) { $0.externalID = String(repeating: "x", count: 200) },
        Case("external_id of 201 characters", .invalid("external_id", "must be 1–200 characters")) { $0.externalID = String(repeating: "x", count: 201) },
    ]

    @Test("required fields", arguments: missing)
    func required(_ test: Case) { #expect(Self.violation(test.fields) == test.expected) }

    @Test("user id and sport", arguments: userAndSport)
    func userIDAndSport(_ test: Case) { #expect(Self.violation(test.fields) == test.expected) }

    @Test("start time", arguments: startedAt)
    func startTime(_ test: Case) { #expect(Self.violation(test.fields) == test.expected) }

    @Test("duration", arguments: duration)
    func durations(_ test: Case) { #expect(Self.violation(test.fields) == test.expected) }

    @Test("distance: sign, plausible distance, plausible speed", arguments: distance)
    func distances(_ test: Case) { #expect(Self.violation(test.fields) == test.expected) }

    @Test("calories, climb, heart rate, notes, external id", arguments: others)
    func otherFields(_ test: Case) { #expect(Self.violation(test.fields) == test.expected) }

    /// The plausibility limits of each sport, as designed: top average speed (m/s) and longest distance (m).
    static let limits: [(sport: String, speed: Double, distance: Double)] = [
        ("run", 7, 400_000), ("ride", 25, 1_500_000), ("swim", 2.5, 50_000), ("walk", 3.5, 200_000), ("hike", 3.5, 400_000),
        ("row", 7, 200_000), ("strength", 30, 100_000), ("yoga", 30, 100_000), ("other", 30, 2_000_000),
    ]

    @Test("every sport: the longest plausible distance and the top plausible speed, on both sides")
    func sportLimits() {
        #expect(Set(Self.limits.map(\.sport)) == Set(Sport.allCases.map(\.rawValue)))
        for (sport, speed, distance) in Self.limits {
            // The longest distance, slowly enough: accepted; a metre more: refused.
            let slow = Int((distance / speed).rounded(.up)) + 1
            #expect(Self.violation(Self.fields(sport: sport, distance: distance, duration: slow)) == nil, "\(sport)")
            #expect(
                Self.violation(Self.fields(sport: sport, distance: distance + 1, duration: slow))
                    == .invalid("distance_m", "\(Int(distance / 1000)) km is not a plausible \(sport)"),
                "\(sport)"
            )
            // The top speed over 1,000 s: accepted; a metre more: refused.
            #expect(Self.violation(Self.fields(sport: sport, distance: speed * 1_000, duration: 1_000)) == nil, "\(sport)")
            let faster = speed * 1_000 + 1
            #expect(
                Self.violation(Self.fields(sport: sport, distance: faster, duration: 1_000))
                    == .invalid("distance_m", "\(Int(faster)) m in 1000 s is faster than any \(sport)"),
                "\(sport)"
            )
        }
    }

    static func fields(sport: String, distance: Double, duration: Int) -> SessionFields {
        SessionFields(userID: "u", sport: sport, startedAt: "2026-01-01T00:00:00Z", durationS: duration, distanceM: distance)
    }

    @Test("a valid session keeps its fields, gets id 0 and is created now")
    func validSession() throws {
        let session = try Self.valid.validated(nowMs: Self.now)
        #expect(
            session
                == ExerciseSession(
                    id: 0,
                    userID: "athlete-1",
                    sport: .run,
                    startedAtMs: Civil.utcMs(2026, 3, 1, 7, 30),
                    durationS: 3_600,
                    distanceM: 10_000,
                    caloriesKcal: 700,
                    avgHrBpm: 150,
                    maxHrBpm: 180,
                    elevationGainM: 120,
                    notes: "easy",
                    externalID: "garmin:1",
                    createdAtMs: Self.now
                )
        )
        for sport in Sport.allCases {
            let fields = SessionFields(userID: "u", sport: sport.rawValue, startedAt: "2026-03-01T07:30:00Z", durationS: 60)
            #expect(try fields.validated(nowMs: Self.now).sport == sport)
        }
    }

    @Test("a change applies only the fields it has, then the rules hold for the result")
    func changes() throws {
        let stored = try Self.valid.validated(nowMs: Self.now)
        let later = Self.now + 86_400_000

        let notes = try SessionFields(notes: "felt strong").applied(to: stored, nowMs: later)
        var expected = stored
        expected.notes = "felt strong"
        #expect(notes == expected)
        #expect(try SessionFields().applied(to: stored, nowMs: later) == stored)

        let moved = try SessionFields(userID: "athlete-2", startedAt: "2026-03-02T06:00:00Z", durationS: 4_000, avgHrBpm: 140)
            .applied(to: stored, nowMs: later)
        #expect(moved.userID == "athlete-2" && moved.startedAtMs == Civil.utcMs(2026, 3, 2, 6) && moved.durationS == 4_000 && moved.avgHrBpm == 140)
        #expect(moved.id == stored.id && moved.createdAtMs == stored.createdAtMs && moved.distanceM == stored.distanceM)

        func violation(_ change: SessionFields) -> SessionRuleViolation? {
            do {
                _ = try change.applied(to: stored, nowMs: later)
                return nil
            } catch {
                return error
            }
        }
        // The stored 10 km in an hour is no swim (2.78 m/s): changing the sport alone breaks the speed rule.
        #expect(violation(SessionFields(sport: "swim")) == .invalid("distance_m", "10000 m in 3600 s is faster than any swim"))
        // Nor a 20-minute run.
        #expect(violation(SessionFields(durationS: 1_200)) == .invalid("distance_m", "10000 m in 1200 s is faster than any run"))
        // A maximum below the stored average.
        #expect(violation(SessionFields(maxHrBpm: 149)) == .invalid("avg_hr_bpm", "the average heart rate is above the maximum"))
        #expect(violation(SessionFields(sport: "skate")) == .unknownSport("skate"))
        #expect(violation(SessionFields(userID: "")) == .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)"))
        #expect(violation(SessionFields(startedAt: "2026-03-03T00:01:00.001Z")) == .invalid("started_at", "is in the future"))
        #expect(violation(SessionFields(startedAt: "2026-03-03T00:01:00Z")) == nil)
        #expect(violation(SessionFields(externalID: "")) == .invalid("external_id", "must be 1–200 characters"))
    }

    @Test(
        "each violation's kind and detail",
        arguments: [
            (SessionRuleViolation.missing("sport"), RuleViolationKind.invalid, "sport is required"),
            (.unknownSport("ski"), .invalid, "`ski` is not a sport; use one of run, ride, swim, walk, hike, row, strength, yoga, other"),
            (.invalid("avg_hr_bpm", "400 bpm is not a human heart rate (25–250)"), .invalid, "avg_hr_bpm 400 bpm is not a human heart rate (25–250)"),
            (.duplicateExternalID("garmin:1"), .conflict, "another session already has external_id garmin:1"),
        ]
    )
    func kindAndDetail(violation: SessionRuleViolation, kind: RuleViolationKind, detail: String) {
        #expect(violation.kind == kind)
        #expect(violation.detail == detail)
    }

    @Test("the unknown-sport detail names every sport")
    func unknownSportDetail() {
        let detail = SessionRuleViolation.unknownSport("ski").detail
        for sport in Sport.allCases {
            #expect(detail.contains(sport.rawValue))
        }
    }
}
