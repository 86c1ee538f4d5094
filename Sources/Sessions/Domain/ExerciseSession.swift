import Foundation
import TurnoCore

/// What kind of exercise a session was.
public enum Sport: String, Sendable, Codable, CaseIterable {
    case run, ride, swim, walk, hike, row, strength, yoga, other

    /// The fastest plausible average speed, in metres per second: a session faster than this is a mistake.
    var maximumSpeed: Double {
        switch self {
        case .run: 7  // 2:23 per km over any distance
        case .ride: 25
        case .swim: 2.5
        case .walk, .hike: 3.5
        case .row: 7
        case .strength, .yoga, .other: 30
        }
    }

    /// The longest plausible distance, in metres.
    var maximumDistance: Double {
        switch self {
        case .run, .hike: 400_000
        case .ride: 1_500_000
        case .swim: 50_000
        case .walk: 200_000
        case .row: 200_000
        case .strength, .yoga: 100_000
        case .other: 2_000_000
        }
    }

    /// Sports whose pace (time per kilometre) people read, rather than speed.
    var readsAsPace: Bool { [.run, .walk, .hike, .swim].contains(self) }
}

/// An exercise session as stored: one activity of one user (an opaque id: no personal data).
public struct ExerciseSession: Sendable, Equatable, Codable {
    public var id: Int64
    public var userID: String
    public var sport: Sport
    public var startedAtMs: Int64
    public var durationS: Int
    public var distanceM: Double?
    public var caloriesKcal: Double?
    public var avgHrBpm: Int?
    public var maxHrBpm: Int?
    public var elevationGainM: Double?
    public var notes: String?
    public var externalID: String?
    public var createdAtMs: Int64

    public init(
        id: Int64,
        userID: String,
        sport: Sport,
        startedAtMs: Int64,
        durationS: Int,
        distanceM: Double? = nil,
        caloriesKcal: Double? = nil,
        avgHrBpm: Int? = nil,
        maxHrBpm: Int? = nil,
        elevationGainM: Double? = nil,
        notes: String? = nil,
        externalID: String? = nil,
        createdAtMs: Int64 = 0
    ) {
        self.id = id
        self.userID = userID
        self.sport = sport
        self.startedAtMs = startedAtMs
        self.durationS = durationS
        self.distanceM = distanceM
        self.caloriesKcal = caloriesKcal
        self.avgHrBpm = avgHrBpm
        self.maxHrBpm = maxHrBpm
        self.elevationGainM = elevationGainM
        self.notes = notes
        self.externalID = externalID
        self.createdAtMs = createdAtMs
    }
}

/// A session's fields before it is stored (or a change to them: every field optional).
public struct SessionFields: Sendable, Equatable, Codable {
    public var userID: String?
    public var sport: String?
    public var startedAt: String?
    public var durationS: Int?
    public var distanceM: Double?
    public var caloriesKcal: Double?
    public var avgHrBpm: Int?
    public var maxHrBpm: Int?
    public var elevationGainM: Double?
    public var notes: String?
    public var externalID: String?

    public init(
        userID: String? = nil,
        sport: String? = nil,
        startedAt: String? = nil,
        durationS: Int? = nil,
        distanceM: Double? = nil,
        caloriesKcal: Double? = nil,
        avgHrBpm: Int? = nil,
        maxHrBpm: Int? = nil,
        elevationGainM: Double? = nil,
        notes: String? = nil,
        externalID: String? = nil
    ) {
        self.userID = userID
        self.sport = sport
        self.startedAt = startedAt
        self.durationS = durationS
        self.distanceM = distanceM
        self.caloriesKcal = caloriesKcal
        self.avgHrBpm = avgHrBpm
        self.maxHrBpm = maxHrBpm
        self.elevationGainM = elevationGainM
        self.notes = notes
        self.externalID = externalID
    }

    enum CodingKeys: String, CodingKey {
        case userID = "userId"
        case sport, startedAt, durationS, distanceM, caloriesKcal, avgHrBpm, maxHrBpm, elevationGainM, notes
        case externalID = "externalId"
    }

    /// A new session from these fields, or the first rule they break.
    public func validated(nowMs: Int64) throws(SessionRuleViolation) -> ExerciseSession {
        guard let userID else { throw .missing("user_id") }
        guard let sport else { throw .missing("sport") }
        guard let startedAt else { throw .missing("started_at") }
        guard let durationS else { throw .missing("duration_s") }
        var session = ExerciseSession(id: 0, userID: userID, sport: .other, startedAtMs: 0, durationS: durationS, createdAtMs: nowMs)
        try apply(to: &session, sport: sport, startedAt: startedAt, nowMs: nowMs)
        return session
    }

    /// `session` with these fields changed, or the first rule the result breaks.
    public func applied(to session: ExerciseSession, nowMs: Int64) throws(SessionRuleViolation) -> ExerciseSession {
        var changed = session
        if let userID { changed.userID = userID }
        if let durationS { changed.durationS = durationS }
        try apply(to: &changed, sport: sport, startedAt: startedAt, nowMs: nowMs)
        return changed
    }

    private func apply(to session: inout ExerciseSession, sport: String?, startedAt: String?, nowMs: Int64) throws(SessionRuleViolation) {
        if let sport {
            guard let known = Sport(rawValue: sport) else { throw .unknownSport(sport) }
            session.sport = known
        }
        if let startedAt {
            guard let time = Timestamp.parse(startedAt) else {
                throw .invalid("started_at", "`\(startedAt)` is not an ISO-8601 time such as 2026-11-21T07:30:00Z")
            }
            session.startedAtMs = time
        }
        if let distanceM { session.distanceM = distanceM }
        if let caloriesKcal { session.caloriesKcal = caloriesKcal }
        if let avgHrBpm { session.avgHrBpm = avgHrBpm }
        if let maxHrBpm { session.maxHrBpm = maxHrBpm }
        if let elevationGainM { session.elevationGainM = elevationGainM }
        if let notes { session.notes = notes }
        if let externalID { session.externalID = externalID }
        try Self.check(session, nowMs: nowMs)
    }

    /// The rules every stored session keeps.
    static func check(_ session: ExerciseSession, nowMs: Int64) throws(SessionRuleViolation) {
        let user = session.userID
        guard !user.isEmpty, user.count <= 100, user.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.:@".contains($0)) }) else {
            throw .invalid("user_id", "must be 1–100 letters, digits or -_.:@ (an opaque id, not a name)")
        }
        // A minute of clock skew is tolerated; a session that has not started yet is not.
        guard session.startedAtMs <= nowMs + 60_000 else { throw .invalid("started_at", "is in the future") }
        guard session.startedAtMs >= 946_684_800_000 else { throw .invalid("started_at", "is before 2000") }
        guard (1...(7 * 86_400)).contains(session.durationS) else {
            throw .invalid("duration_s", "must be between 1 second and 7 days, got \(session.durationS)")
        }
        if let distance = session.distanceM {
            guard distance >= 0, distance.isFinite else { throw .invalid("distance_m", "must not be negative") }
            guard distance <= session.sport.maximumDistance else {
                throw .invalid("distance_m", "\(Int(distance / 1000)) km is not a plausible \(session.sport.rawValue)")
            }
            guard distance / Double(session.durationS) <= session.sport.maximumSpeed else {
                throw .invalid("distance_m", "\(Int(distance)) m in \(session.durationS) s is faster than any \(session.sport.rawValue)")
            }
        }
        if let calories = session.caloriesKcal, !(0...20_000).contains(calories) { throw .invalid("calories_kcal", "must be between 0 and 20,000") }
        if let elevation = session.elevationGainM, !(0...20_000).contains(elevation) { throw .invalid("elevation_gain_m", "must be between 0 and 20,000 m") }
        for (field, value) in [("avg_hr_bpm", session.avgHrBpm), ("max_hr_bpm", session.maxHrBpm)] {
            if let value, !(25...250).contains(value) { throw .invalid(field, "\(value) bpm is not a human heart rate (25–250)") }
        }
        if let average = session.avgHrBpm, let maximum = session.maxHrBpm, average > maximum {
            throw .invalid("avg_hr_bpm", "the average heart rate is above the maximum")
        }
        if let notes = session.notes, notes.count > 2_000 { throw .invalid("notes", "at most 2,000 characters") }
        if let external = session.externalID, external.isEmpty || external.count > 200 { throw .invalid("external_id", "must be 1–200 characters") }
    }
}

/// A rule a session breaks; becomes a 422 problem naming the field.
public enum SessionRuleViolation: RuleViolation, Equatable {
    case missing(String)
    case unknownSport(String)
    case invalid(String, String)
    /// Another session of the organization already has this `external_id`.
    case duplicateExternalID(String)

    public var kind: RuleViolationKind {
        if case .duplicateExternalID = self { .conflict } else { .invalid }
    }

    public var detail: String {
        switch self {
        case .missing(let field): "\(field) is required"
        case .unknownSport(let sport): "`\(sport)` is not a sport; use one of \(Sport.allCases.map(\.rawValue).joined(separator: ", "))"
        case .invalid(let field, let why): "\(field) \(why)"
        case .duplicateExternalID(let id): "another session already has external_id \(id)"
        }
    }
}
