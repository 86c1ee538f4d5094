import Foundation
import Testing
import TurnoCore

@testable import Sessions

/// The CSV form of sessions: splitting text into records, reading a record's fields, and the export read back.
@Suite("Sessions CSV and times")
struct CSVTests {
    static let now = Civil.utcMs(2026, 3, 2)

    @Test(
        "records: quoted commas, quotes and line breaks, CRLF or LF or CR, blank lines skipped, each with its first line",
        arguments: [
            ("a,b\r\nc,d\r\n", [(1, ["a", "b"]), (2, ["c", "d"])]),
            ("a,b\nc,d", [(1, ["a", "b"]), (2, ["c", "d"])]),
            ("a\rb\r", [(1, ["a"]), (2, ["b"])]),
            ("\"x,y\",\"he said \"\"hi\"\"\"\r\n", [(1, ["x,y", "he said \"hi\""])]),
            ("\"two\nlines\",z\nnext,1\n", [(1, ["two\nlines", "z"]), (3, ["next", "1"])]),
            ("\"three\r\nlines\r\n\",z\r\nnext,1\r\n", [(1, ["three\r\nlines\r\n", "z"]), (4, ["next", "1"])]),
            ("a,b\n\n\r\nc,d\n", [(1, ["a", "b"]), (4, ["c", "d"])]),
            ("a,,\n,\n", [(1, ["a", "", ""]), (2, ["", ""])]),
            ("ab\"c,d\n", [(1, ["ab\"c", "d"])]),
            ("\"\",x\n", [(1, ["", "x"])]),
            ("\"unterminated,\nfield", [(1, ["unterminated,\nfield"])]),
            ("", []),
            ("\n\n", []),
        ] as [(String, [(Int, [String])])]
    )
    func records(text: String, expected: [(Int, [String])]) {
        let records = SessionCSV.records(text)
        #expect(records.map(\.line) == expected.map(\.0))
        #expect(records.map(\.fields) == expected.map(\.1))
    }

    @Test("a record's fields: empty cells are absent, the spreadsheet guard is undone, numbers must be numbers")
    func sessionFields() throws {
        let record = [
            "id": "41", "user_id": "u1", "sport": "ride", "started_at": "2026-03-01T07:30:00Z", "duration_s": "3600", "distance_m": "30000.5",
            "calories_kcal": "", "avg_hr_bpm": "140", "max_hr_bpm": "", "elevation_gain_m": "'-0", "notes": "'=SUM(A1:A9)", "external_id": "",
        ]
        let fields = try SessionCSV.sessionFields(record)
        #expect(
            fields
                == SessionFields(
                    userID: "u1",
                    sport: "ride",
                    startedAt: "2026-03-01T07:30:00Z",
                    durationS: 3_600,
                    distanceM: 30_000.5,
                    avgHrBpm: 140,
                    elevationGainM: 0,
                    notes: "=SUM(A1:A9)",
                    externalID: "csv:41"
                )
        )
        // The guard is one apostrophe before =, +, - or @, nothing else.
        for (cell, notes) in [("'+1", "+1"), ("'@home", "@home"), ("'-", "-"), ("'x", "'x"), ("'", "'"), ("''=", "''="), ("a'=b", "a'=b")] {
            #expect(try SessionCSV.sessionFields(["notes": cell]).notes == notes, "\(cell)")
        }
        #expect(try SessionCSV.sessionFields(["id": "7", "external_id": "strava:9"]).externalID == "strava:9")
        #expect(try SessionCSV.sessionFields([:]) == SessionFields())

        func violation(_ record: [String: String]) -> SessionRuleViolation? {
            do {
                _ = try SessionCSV.sessionFields(record)
                return nil
            } catch {
                return error
            }
        }
        #expect(violation(["duration_s": "3600.0"]) == .invalid("duration_s", "must be a whole number, got `3600.0`"))
        #expect(violation(["avg_hr_bpm": "high"]) == .invalid("avg_hr_bpm", "must be a whole number, got `high`"))
        #expect(violation(["max_hr_bpm": " 180"]) == .invalid("max_hr_bpm", "must be a whole number, got ` 180`"))
        #expect(violation(["distance_m": "10 km"]) == .invalid("distance_m", "must be a number, got `10 km`"))
        #expect(violation(["calories_kcal": "1,000"]) == .invalid("calories_kcal", "must be a number, got `1,000`"))
        #expect(violation(["elevation_gain_m": "x"]) == .invalid("elevation_gain_m", "must be a number, got `x`"))
        #expect(violation(["duration_s": "60", "distance_m": "1e3"]) == nil)
    }

    /// A plausible session with awkward text: commas, quotes, line breaks, formula-like starts, non-ASCII.
    static func plausibleSession(id: Int64, using random: inout SeededRandom) -> ExerciseSession {
        let sport = Sport.allCases.randomElement(using: &random)!
        let durationS = Int.random(in: 1...604_800, using: &random)
        let farthest = min(sport.maximumDistance, sport.maximumSpeed * Double(durationS))
        let average = Bool.random(using: &random) ? Int.random(in: 25...250, using: &random) : nil
        let pieces = ["easy", " ", ",", "\"", "\n", "\r\n", "\r", "=SUM(A1)", "-5 min", "+1", "@home", "'", "é", "👍🏽", "tempo, 5×1 km", ";", "\t"]
        func text() -> String {
            var text = ""
            for _ in 0..<Int.random(in: 1...6, using: &random) { text += pieces.randomElement(using: &random)! }
            // An apostrophe before =, +, - or @ at the start reads back as the spreadsheet guard (see the known issue).
            if text.hasPrefix("'"), let second = text.dropFirst().first, "=+-@".contains(second) { text = "x" + text }
            // A CRLF is written unquoted unless something else in the value needs quotes (see the known issue).
            if text.contains(Character("\r\n")) { text += "," }
            return text
        }
        let idCharacters = Array("abcXYZ019-_.:@")
        return ExerciseSession(
            id: id,
            userID: String((0..<Int.random(in: 1...100, using: &random)).map { _ in idCharacters.randomElement(using: &random)! }),
            sport: sport,
            startedAtMs: Int64.random(in: 946_684_800...(now / 1000), using: &random) * 1000,
            durationS: durationS,
            distanceM: Bool.random(using: &random) ? Double.random(in: 0...farthest, using: &random) : nil,
            caloriesKcal: Bool.random(using: &random) ? Double.random(in: 0...20_000, using: &random).rounded() : nil,
            avgHrBpm: average,
            maxHrBpm: Bool.random(using: &random) ? Int.random(in: (average ?? 25)...250, using: &random) : nil,
            elevationGainM: Bool.random(using: &random) ? Double(Int.random(in: 0...200_000, using: &random)) / 10 : nil,
            notes: Bool.random(using: &random) ? text() : nil,
            externalID: Bool.random(using: &random) ? text() : nil,
            createdAtMs: now
        )
    }

    @Test("an export read back gives the same sessions, on the lines they start on (property)")
    func roundTrip() throws {
        var random = SeededRandom(seed: 4180)
        for round in 0..<40 {
            let sessions = (0..<Int.random(in: 1...25, using: &random)).map { Self.plausibleSession(id: Int64(round * 100 + $0 + 1), using: &random) }
            for session in sessions {
                // The generator makes only sessions the rules accept.
                #expect(throws: Never.self) { try FieldsOf(session).fields.validated(nowMs: Self.now) }
            }
            let rows = [CSV.row(SessionCSV.header)] + sessions.map { CSV.row(SessionCSV.fields(of: $0)) }
            let text = rows.joined()
            let records = SessionCSV.records(text)
            try #require(records.count == sessions.count + 1, "round \(round): \(text.debugDescription)")
            #expect(records[0].fields == SessionCSV.header)
            // Each record starts on the line after all the line feeds written before it.
            var line = 1
            for (index, row) in rows.enumerated() {
                #expect(records[index].line == line, "round \(round), row \(index)")
                line += row.utf8.filter { $0 == UInt8(ascii: "\n") }.count
            }
            for (session, record) in zip(sessions, records.dropFirst()) {
                let read = try SessionCSV.sessionFields(Dictionary(uniqueKeysWithValues: zip(SessionCSV.header, record.fields))).validated(nowMs: Self.now)
                var expected = session
                expected.id = 0
                expected.externalID = session.externalID ?? "csv:\(session.id)"
                #expect(read == expected, "round \(round)")
            }
        }
    }

    @Test("a value that starts with an apostrophe and =, +, - or @ reads back as it was written")
    func apostropheRoundTrip() throws {
        let session = ExerciseSession(id: 5, userID: "u", sport: .run, startedAtMs: Civil.utcMs(2026, 3, 1), durationS: 60, notes: "'-)", externalID: "'+39")
        let record = SessionCSV.records(CSV.row(SessionCSV.fields(of: session)))[0].fields
        let read = try SessionCSV.sessionFields(Dictionary(uniqueKeysWithValues: zip(SessionCSV.header, record)))
        // The export guards only values starting with =, +, - or @; the import strips an apostrophe before those, so a
        // value that already started with such an apostrophe loses it.
        withKnownIssue("the spreadsheet guard is ambiguous: \"'-)\" reads back as \"-)\"") {
            #expect(read.notes == "'-)")
            #expect(read.externalID == "'+39")
        }
    }

    @Test("a value with a CRLF line break and nothing else to quote is quoted, so it stays one record")
    func crlfInValue() throws {
        // CSV.field looks for "\n" and "\r" Characters, and "\r\n" is one Character, neither of them. Browsers send a
        // textarea's line breaks as CRLF.
        let session = ExerciseSession(id: 9, userID: "u", sport: .walk, startedAtMs: Civil.utcMs(2026, 3, 1), durationS: 60, notes: "line one\r\nline two")
        let text = CSV.row(SessionCSV.header) + CSV.row(SessionCSV.fields(of: session))
        let records = SessionCSV.records(text)
        try #require(records.count == 2)
        #expect(try SessionCSV.sessionFields(Dictionary(uniqueKeysWithValues: zip(SessionCSV.header, records[1].fields))).notes == "line one\r\nline two")
    }

    @Test("a value that starts with a combining mark does not merge with the comma before it")
    func combiningMarkAfterComma() {
        // Splitting works on Characters, and a comma followed by a combining mark is one Character, not a comma.
        let row = CSV.row(["a", "\u{301}b", "c"])
        withKnownIssue("\",\" + U+0301 is read as one character, so the fields merge") {
            #expect(SessionCSV.records(row).first?.fields == ["a", "\u{301}b", "c"])
        }
    }

    @Test(
        "ISO-8601 times: Z or an offset, with or without fractional seconds; anything else is not a time",
        arguments: [
            ("2026-11-21T07:30:00Z", Civil.utcMs(2026, 11, 21, 7, 30)),
            ("2026-11-21T07:30:00.250+01:00", Civil.utcMs(2026, 11, 21, 6, 30) + 250),
            ("2026-11-21T07:30:00-03:30", Civil.utcMs(2026, 11, 21, 11)),
            ("2026-11-21T23:59:59.999+05:45", Civil.utcMs(2026, 11, 21, 18, 14, 59) + 999),
            ("2000-01-01T00:00:00Z", 946_684_800_000),
            ("2026-11-21", nil),
            ("yesterday", nil),
            ("", nil),
            ("2026-13-01T07:30:00Z", nil),
            ("2026-03-01 07:30:00Z", nil),
            ("2026-03-01T07:30:00", nil),
        ] as [(String, Int64?)]
    )
    func parseTimes(text: String, ms: Int64?) {
        #expect(Timestamp.parse(text) == ms)
    }

    @Test(
        "an impossible date or time is not a time",
        arguments: [
            "2026-02-29T07:30:00Z", "2026-02-30T07:30:00Z", "2026-04-31T07:30:00Z", "2026-03-01T24:00:00Z", "2026-03-01T07:60:00Z", "2026-03-01T07:30:60Z",
        ]
    )
    func impossibleTimes(text: String) {
        // Foundation's ISO-8601 parser alone would roll these over (February 30 to March 2, 24:00 to the next midnight).
        #expect(Timestamp.parse(text) == nil)
    }

    @Test("a time written reads back as the same instant (property)")
    func timesRoundTrip() {
        #expect(Timestamp.format(milliseconds: Civil.utcMs(2026, 11, 21, 7, 30)) == "2026-11-21T07:30:00.000Z")
        var random = SeededRandom(seed: 8601)
        for _ in 0..<2_000 {
            let seconds = Int64.random(in: 946_684_800...4_102_444_800, using: &random)
            #expect(Timestamp.parse(Timestamp.format(milliseconds: seconds * 1000)) == seconds * 1000)
        }
        // The API takes milliseconds (…07:30:00.250Z) and stores them: it writes them back too, so an export read back,
        // or a time read and sent back, keeps the session where it was.
        #expect(Timestamp.format(milliseconds: Civil.utcMs(2026, 11, 21, 7, 30) + 250) == "2026-11-21T07:30:00.250Z")
        #expect(Timestamp.parse(Timestamp.format(milliseconds: Civil.utcMs(2026, 11, 21, 7, 30) + 250)) == Civil.utcMs(2026, 11, 21, 7, 30) + 250)
    }
}

/// A stored session's fields, as a client would send them.
private struct FieldsOf {
    var fields: SessionFields

    init(_ session: ExerciseSession) {
        fields = SessionFields(
            userID: session.userID,
            sport: session.sport.rawValue,
            startedAt: Timestamp.format(milliseconds: session.startedAtMs),
            durationS: session.durationS,
            distanceM: session.distanceM,
            caloriesKcal: session.caloriesKcal,
            avgHrBpm: session.avgHrBpm,
            maxHrBpm: session.maxHrBpm,
            elevationGainM: session.elevationGainM,
            notes: session.notes,
            externalID: session.externalID
        )
    }
}
