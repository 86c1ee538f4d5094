import Foundation
import SQLKit
import TurnoCore

/// Shift templates, assignments, absences and swaps, and the arrival history the forecast reads.
extension QueueStore {
    /// Everything planned at a branch: its active templates, assignments, absences and swaps.
    func roster(of branchID: BranchID, sql: any SQLDatabase) async throws -> Roster {
        let templates = try await sql.raw(
            """
            SELECT id, branch_id, name, from_minute, to_minute, weekdays FROM shift_templates
            WHERE branch_id = \(bind: branchID) AND active = 1 ORDER BY from_minute, id
            """
        ).all().map { row in
            ShiftTemplate(
                id: try row.decode(column: "id", as: Int64.self),
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                name: try row.decode(column: "name", as: String.self),
                hours: TimeRange(
                    from: TimeOfDay(minutes: try row.decode(column: "from_minute", as: Int.self)) ?? TimeOfDay(minutes: 0)!,
                    to: TimeOfDay(minutes: try row.decode(column: "to_minute", as: Int.self)) ?? TimeOfDay(minutes: 0)!
                ),
                weekdays: Set(try row.decode(column: "weekdays", as: String.self).split(separator: ",").compactMap { Weekday(rawValue: String($0)) })
            )
        }
        let assignments = try await sql.raw(
            """
            SELECT id, branch_id, template_id, user_id, queue_id, first_date, last_date FROM shift_assignments
            WHERE branch_id = \(bind: branchID) ORDER BY id
            """
        ).all().map { row in
            ShiftAssignment(
                id: try row.decode(column: "id", as: Int64.self),
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                templateID: try row.decode(column: "template_id", as: Int64.self),
                userID: try row.decode(column: "user_id", as: Int64.self),
                queueID: try row.decode(column: "queue_id", as: Int64.self),
                firstDate: try Self.date(row, "first_date"),
                lastDate: try row.decode(column: "last_date", as: String?.self).flatMap(LocalDate.init)
            )
        }
        let absences = try await sql.raw(
            """
            SELECT id, branch_id, user_id, first_date, last_date, reason FROM absences WHERE branch_id = \(bind: branchID) ORDER BY first_date, id
            """
        ).all().map { row in
            Absence(
                id: try row.decode(column: "id", as: Int64.self),
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                userID: try row.decode(column: "user_id", as: Int64.self),
                firstDate: try Self.date(row, "first_date"),
                lastDate: try Self.date(row, "last_date"),
                reason: try row.decode(column: "reason", as: String.self)
            )
        }
        let swaps = try await sql.raw(
            """
            SELECT id, branch_id, assignment_id, date, substitute_id FROM shift_swaps WHERE branch_id = \(bind: branchID) ORDER BY date, id
            """
        ).all().map { row in
            ShiftSwap(
                id: try row.decode(column: "id", as: Int64.self),
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                assignmentID: try row.decode(column: "assignment_id", as: Int64.self),
                date: try Self.date(row, "date"),
                substituteID: try row.decode(column: "substitute_id", as: Int64.self)
            )
        }
        return Roster(templates: templates, assignments: assignments, absences: absences, swaps: swaps)
    }

    func roster(of branchID: BranchID) async throws -> Roster {
        try await storage.read { try await roster(of: branchID, sql: $0) }
    }

    private static func date(_ row: any SQLRow, _ column: String) throws -> LocalDate {
        let text = try row.decode(column: column, as: String.self)
        guard let date = LocalDate(text) else { throw DatabaseUnavailable("the stored date `\(text)` is not one") }
        return date
    }

    /// The branches at which `userID` has shifts planned, as its staff member or as a substitute.
    func branchesWithShifts(of userID: StaffID) async throws -> [BranchID] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT branch_id FROM shift_assignments WHERE user_id = \(bind: userID)
                UNION SELECT branch_id FROM shift_swaps WHERE substitute_id = \(bind: userID)
                """
            ).all().map { try $0.decode(column: "branch_id", as: Int64.self) }
        }
    }

    func insertTemplate(_ template: ShiftTemplate, in transaction: Transaction) async throws -> ShiftTemplate {
        let weekdays = Weekday.allCases.filter(template.weekdays.contains).map(\.rawValue).joined(separator: ",")
        var created = template
        created.id = try await insertReturningID(
            """
            INSERT INTO shift_templates (branch_id, name, from_minute, to_minute, weekdays)
            VALUES (\(bind: template.branchID), \(bind: template.name), \(bind: template.hours.from.minutes), \(bind: template.hours.to.minutes), \(bind: weekdays))
            RETURNING id
            """,
            in: transaction
        )
        return created
    }

    func deactivateTemplate(_ id: ShiftTemplateID, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE shift_templates SET active = 0 WHERE id = \(bind: id)").run()
    }

    func insertAssignment(_ assignment: ShiftAssignment, in transaction: Transaction) async throws -> ShiftAssignment {
        var created = assignment
        created.id = try await insertReturningID(
            """
            INSERT INTO shift_assignments (branch_id, template_id, user_id, queue_id, first_date, last_date)
            VALUES (\(bind: assignment.branchID), \(bind: assignment.templateID), \(bind: assignment.userID), \(bind: assignment.queueID),
                    \(bind: assignment.firstDate.description), \(bind: assignment.lastDate?.description))
            RETURNING id
            """,
            in: transaction
        )
        return created
    }

    /// Ends an assignment after `lastDate`, keeping the shifts already worked.
    func endAssignment(_ id: ShiftAssignmentID, lastDate: LocalDate, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE shift_assignments SET last_date = \(bind: lastDate.description) WHERE id = \(bind: id)").run()
        try await transaction.sql.raw("DELETE FROM shift_swaps WHERE assignment_id = \(bind: id) AND date > \(bind: lastDate.description)").run()
    }

    func deleteAssignment(_ id: ShiftAssignmentID, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM shift_swaps WHERE assignment_id = \(bind: id)").run()
        try await transaction.sql.raw("DELETE FROM shift_assignments WHERE id = \(bind: id)").run()
    }

    func insertAbsence(_ absence: Absence, in transaction: Transaction) async throws -> Absence {
        var created = absence
        created.id = try await insertReturningID(
            """
            INSERT INTO absences (branch_id, user_id, first_date, last_date, reason)
            VALUES (\(bind: absence.branchID), \(bind: absence.userID), \(bind: absence.firstDate.description), \(bind: absence.lastDate.description),
                    \(bind: absence.reason))
            RETURNING id
            """,
            in: transaction
        )
        return created
    }

    func deleteAbsence(_ id: AbsenceID, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM absences WHERE id = \(bind: id)").run()
    }

    func insertSwap(_ swap: ShiftSwap, in transaction: Transaction) async throws -> ShiftSwap {
        var created = swap
        created.id = try await insertReturningID(
            """
            INSERT INTO shift_swaps (branch_id, assignment_id, date, substitute_id)
            VALUES (\(bind: swap.branchID), \(bind: swap.assignmentID), \(bind: swap.date.description), \(bind: swap.substituteID))
            RETURNING id
            """,
            in: transaction
        )
        return created
    }

    func deleteSwap(_ id: ShiftSwapID, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM shift_swaps WHERE id = \(bind: id)").run()
    }

    /// Which branch a template, assignment, absence or swap belongs to (to check the caller's access), nil if none.
    func branchID(of table: ScheduleTable, id: Int64) async throws -> BranchID? {
        try await storage.read { sql in
            let active = table == .templates ? " AND active = 1" : ""
            return try await sql.raw("SELECT branch_id FROM \(unsafeRaw: table.rawValue) WHERE id = \(bind: id)\(unsafeRaw: active)").first()?.decode(
                column: "branch_id",
                as: Int64.self
            )
        }
    }

    private func insertReturningID(_ query: SQLQueryString, in transaction: Transaction) async throws -> Int64 {
        guard let row = try await transaction.sql.raw(query).first() else { throw DatabaseUnavailable("the database did not return the new row's id") }
        return try row.decode(column: "id", as: Int64.self)
    }

    /// Tickets issued at a branch per service and half hour of real time from `fromMs` to `toMs`: the half hour as
    /// milliseconds since 1970 at its start.
    func arrivals(branchID: BranchID, fromMs: Int64, toMs: Int64) async throws -> [(serviceID: ServiceID, slotStartMs: Int64, count: Int)] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT service_id, issued_at_ms / 1800000 AS slot, COUNT(*) AS n FROM tickets
                WHERE branch_id = \(bind: branchID) AND issued_at_ms >= \(bind: fromMs) AND issued_at_ms < \(bind: toMs)
                GROUP BY service_id, issued_at_ms / 1800000
                """
            ).all().map { row in
                (
                    try row.decode(column: "service_id", as: Int64.self), try row.decode(column: "slot", as: Int64.self) * 1_800_000,
                    try row.decode(column: "n", as: Int.self)
                )
            }
        }
    }

    /// A service longer than this was left open (finished the next morning, say), not served: it would skew the average.
    static let longestServiceMs: Int64 = 4 * 3_600_000

    /// Each service's average service time (from start to finish of its served tickets) from `fromMs` on.
    func averageServiceSeconds(branchID: BranchID, fromMs: Int64) async throws -> [ServiceID: Double] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT service_id, AVG(CAST(finished_at_ms - started_at_ms AS DOUBLE PRECISION)) AS ms FROM tickets
                WHERE branch_id = \(bind: branchID) AND state = 'served' AND started_at_ms IS NOT NULL AND finished_at_ms IS NOT NULL
                  AND issued_at_ms >= \(bind: fromMs) AND finished_at_ms - started_at_ms < \(bind: Self.longestServiceMs)
                GROUP BY service_id
                """
            ).all().reduce(into: [:]) { result, row in
                if let ms = try row.decode(column: "ms", as: Double?.self) { result[try row.decode(column: "service_id", as: Int64.self)] = ms / 1000 }
            }
        }
    }

    /// When the branch's first ticket was issued; nil before it has any.
    func firstTicketMs(of branchID: BranchID) async throws -> Int64? {
        try await storage.read { sql in
            try await sql.raw("SELECT MIN(issued_at_ms) AS first FROM tickets WHERE branch_id = \(bind: branchID)").first()?.decode(
                column: "first",
                as: Int64?.self
            )
        }
    }

    /// Up to when shift starts and ends have been applied to `branchID`'s counters; nil before the first time.
    func shiftProgress(of branchID: BranchID, sql: any SQLDatabase) async throws -> Int64? {
        try await sql.raw("SELECT applied_until_ms FROM shift_progress WHERE branch_id = \(bind: branchID)").first()?.decode(
            column: "applied_until_ms",
            as: Int64.self
        )
    }

    func setShiftProgress(of branchID: BranchID, to ms: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            INSERT INTO shift_progress (branch_id, applied_until_ms) VALUES (\(bind: branchID), \(bind: ms))
            ON CONFLICT (branch_id) DO UPDATE SET applied_until_ms = \(bind: ms)
            """
        ).run()
    }

    /// Moves the progress on from `since` to `ms`, unless it is no longer `since` (another node moved it).
    func advanceShiftProgress(of branchID: BranchID, from since: Int64, to ms: Int64) async throws {
        try await storage.write { transaction in
            try await transaction.sql.raw(
                "UPDATE shift_progress SET applied_until_ms = \(bind: ms) WHERE branch_id = \(bind: branchID) AND applied_until_ms = \(bind: since)"
            ).run()
        }
    }

    /// Branches whose counters follow their shifts.
    func branchesFollowingShifts() async throws -> [Branch] {
        try await storage.read { sql in
            try await sql.raw("SELECT \(unsafeRaw: Self.branchColumns) FROM branches WHERE active = 1 AND counters_follow_shifts = 1 ORDER BY id").all().map(
                Self.branch(from:)
            )
        }
    }
}

/// The tables of the schedule whose rows the API names by id.
enum ScheduleTable: String {
    case templates = "shift_templates"
    case assignments = "shift_assignments"
    case absences
    case swaps = "shift_swaps"
}

extension QueueStore {
    /// The open counters of a branch and who opened each (counters opened by the server have nobody).
    func openers(of branchID: BranchID) async throws -> [QueueID: StaffID] {
        try await storage.read { sql in
            try await sql.raw(
                "SELECT id, opened_by FROM queues WHERE branch_id = \(bind: branchID) AND state = 'open' AND active = 1 AND opened_by IS NOT NULL"
            ).all().reduce(into: [:]) { result, row in
                result[try row.decode(column: "id", as: Int64.self)] = try row.decode(column: "opened_by", as: Int64.self)
            }
        }
    }
}
