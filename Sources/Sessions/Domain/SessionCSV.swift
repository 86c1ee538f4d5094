import TurnoCore

/// The CSV form of sessions: what `GET /api/v1/sessions.csv` writes and `turno import sessions` reads back.
public enum SessionCSV {
    public static let header = [
        "id", "user_id", "sport", "started_at", "duration_s", "distance_m", "calories_kcal", "avg_hr_bpm", "max_hr_bpm",
        "elevation_gain_m", "notes", "external_id",
    ]

    public static func fields(of session: ExerciseSession) -> [String] {
        func number(_ value: Double?) -> String {
            guard let value else { return "" }
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
        return [
            String(session.id), session.userID, session.sport.rawValue, Timestamp.format(milliseconds: session.startedAtMs), String(session.durationS),
            number(session.distanceM), number(session.caloriesKcal), session.avgHrBpm.map(String.init) ?? "", session.maxHrBpm.map(String.init) ?? "",
            number(session.elevationGainM), session.notes ?? "", session.externalID ?? "",
        ]
    }

    /// The fields of one record (named by the header), as a new session's fields; empty cells are absent values.
    /// A record without `external_id` gets one made of its exported `id` (`csv:<id>`) so importing twice adds nothing.
    public static func sessionFields(_ record: [String: String]) throws(SessionRuleViolation) -> SessionFields {
        func text(_ name: String) -> String? {
            guard var value = record[name], !value.isEmpty else { return nil }
            // Undo the spreadsheet guard the export puts before =, +, - and @.
            if value.hasPrefix("'"), let second = value.dropFirst().first, "=+-@".contains(second) { value.removeFirst() }
            return value
        }
        func integer(_ name: String) throws(SessionRuleViolation) -> Int? {
            guard let value = text(name) else { return nil }
            guard let number = Int(value) else { throw .invalid(name, "must be a whole number, got `\(value)`") }
            return number
        }
        func decimal(_ name: String) throws(SessionRuleViolation) -> Double? {
            guard let value = text(name) else { return nil }
            guard let number = Double(value) else { throw .invalid(name, "must be a number, got `\(value)`") }
            return number
        }
        return SessionFields(
            userID: text("user_id"),
            sport: text("sport"),
            startedAt: text("started_at"),
            durationS: try integer("duration_s"),
            distanceM: try decimal("distance_m"),
            caloriesKcal: try decimal("calories_kcal"),
            avgHrBpm: try integer("avg_hr_bpm"),
            maxHrBpm: try integer("max_hr_bpm"),
            elevationGainM: try decimal("elevation_gain_m"),
            notes: text("notes"),
            externalID: text("external_id") ?? text("id").map { "csv:\($0)" }
        )
    }

    /// Splits CSV text (RFC 4180: quoted fields may hold commas, quotes and line breaks) into records, each with the
    /// line it starts on.
    public static func records(_ text: String) -> [(line: Int, fields: [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var line = 1
        var recordLine = 1
        var characters = text.makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = next
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                fields.append(field)
                field = ""
            case "\n", "\r\n", "\r":
                fields.append(field)
                if fields != [""] { records.append((recordLine, fields)) }
                fields = []
                field = ""
                line += 1
                recordLine = line
            default: field.append(character)
            }
        }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            records.append((recordLine, fields))
        }
        return records
    }
}
