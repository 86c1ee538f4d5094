import SQLKit
import TurnoCore

/// A complaint with what its list shows of the ticket: its number, service, last counter and who served it.
struct ComplaintRecord: Sendable {
    var complaint: Complaint
    var ticketNumber: String
    var serviceID: ServiceID
    var queueID: QueueID?
    var servedBy: StaffID?
}

/// One step of a complaint's timeline.
struct ComplaintNote: Sendable, Equatable {
    var atMs: Int64
    var userID: StaffID?
    var state: ComplaintState?
    /// `.some(nil)` when the step unassigned it.
    var assigneeID: StaffID??
    var note: String?
    var reply: String?
}

/// Which complaints to list: of these branches, in these states, assigned to someone, after a cursor.
struct ComplaintFilter: Sendable {
    var branchIDs: [BranchID]
    var states: [ComplaintState]
    var assigneeID: StaffID?
    var afterID: ComplaintID?
    var limit = 50
}

extension QueueStore {
    private static let complaintColumns = """
        c.id, c.branch_id, c.ticket_id, c.text, c.state, c.assignee_id, c.reply, c.replied_at_ms, c.created_at_ms, c.updated_at_ms,
        t.prefix, t.sequence, t.service_id, t.queue_id,
        (SELECT user_id FROM ticket_steps s WHERE s.ticket_id = c.ticket_id AND s.step IN ('served', 'no_show') ORDER BY s.id DESC LIMIT 1) AS served_by
        """

    func insertComplaint(branchID: BranchID, ticketID: TicketID, text: String, in transaction: Transaction) async throws -> Complaint {
        let now = transaction.timeMs
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO complaints (branch_id, ticket_id, text, state, created_at_ms, updated_at_ms)
                VALUES (\(bind: branchID), \(bind: ticketID), \(bind: text), 'open', \(bind: now), \(bind: now)) RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new complaint's id") }
        return Complaint(
            id: try row.decode(column: "id", as: Int64.self),
            branchID: branchID,
            ticketID: ticketID,
            text: text,
            state: .open,
            createdAtMs: now,
            updatedAtMs: now
        )
    }

    /// The complaints, with what lists show of their tickets, that meet `condition` (on `c`, the complaint).
    private static func selectComplaints(where condition: SQLQueryString) -> SQLQueryString {
        "SELECT \(unsafeRaw: complaintColumns) FROM complaints c JOIN tickets t ON t.id = c.ticket_id WHERE \(condition)"
    }

    /// The complaint about a ticket, if its customer made one.
    func complaint(ofTicket ticketID: TicketID, sql: (any SQLDatabase)? = nil) async throws -> ComplaintRecord? {
        let query = Self.selectComplaints(where: "c.ticket_id = \(bind: ticketID)")
        if let sql { return try await sql.raw(query).first().map(Self.complaintRecord) }
        return try await storage.read { sql in try await sql.raw(query).first().map(Self.complaintRecord) }
    }

    /// A complaint, locked for the rest of the transaction on PostgreSQL.
    func complaint(_ id: ComplaintID, in transaction: Transaction) async throws -> ComplaintRecord? {
        let lock = transaction.kind == .postgres ? " FOR UPDATE OF c" : ""
        return try await transaction.sql.raw("\(Self.selectComplaints(where: "c.id = \(bind: id)"))\(unsafeRaw: lock)").first().map(Self.complaintRecord)
    }

    func complaint(_ id: ComplaintID) async throws -> ComplaintRecord? {
        try await storage.read { sql in try await sql.raw(Self.selectComplaints(where: "c.id = \(bind: id)")).first().map(Self.complaintRecord) }
    }

    func complaints(_ filter: ComplaintFilter) async throws -> [ComplaintRecord] {
        guard !filter.branchIDs.isEmpty, !filter.states.isEmpty else { return [] }
        var query = Self.selectComplaints(where: "c.branch_id IN (\(binds: filter.branchIDs)) AND c.state IN (\(binds: filter.states.map(\.rawValue)))")
        if let assignee = filter.assigneeID {
            query.appendInterpolation(unsafeRaw: " AND c.assignee_id = ")
            query.appendInterpolation(bind: assignee)
        }
        if let after = filter.afterID {
            query.appendInterpolation(unsafeRaw: " AND c.id < ")
            query.appendInterpolation(bind: after)
        }
        // Newest first: the inbox shows what just came in on top.
        query.appendInterpolation(unsafeRaw: " ORDER BY c.id DESC LIMIT \(filter.limit)")
        return try await storage.read { sql in try await sql.raw(query).all().map(Self.complaintRecord) }
    }

    func update(_ complaint: Complaint, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            UPDATE complaints SET state = \(bind: complaint.state.rawValue), assignee_id = \(bind: complaint.assigneeID), reply = \(bind: complaint.reply),
                replied_at_ms = \(bind: complaint.repliedAtMs), updated_at_ms = \(bind: complaint.updatedAtMs)
            WHERE id = \(bind: complaint.id)
            """
        ).run()
    }

    func addNote(_ note: ComplaintNote, to complaintID: ComplaintID, in transaction: Transaction) async throws {
        let assignee = note.assigneeID.flatMap { $0 }
        let unassigned = note.assigneeID.map { $0 == nil } ?? false
        try await transaction.sql.raw(
            """
            INSERT INTO complaint_notes (complaint_id, at_ms, user_id, state, assignee_id, unassigned, note, reply)
            VALUES (\(bind: complaintID), \(bind: note.atMs), \(bind: note.userID), \(bind: note.state?.rawValue), \(bind: assignee),
                    \(bind: unassigned ? 1 : 0), \(bind: note.note), \(bind: note.reply))
            """
        ).run()
    }

    func notes(of complaintID: ComplaintID) async throws -> [ComplaintNote] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT at_ms, user_id, state, assignee_id, unassigned, note, reply FROM complaint_notes
                WHERE complaint_id = \(bind: complaintID) ORDER BY id
                """
            ).all().map { row in
                let assignee = try row.decode(column: "assignee_id", as: Int64?.self)
                let unassigned = try row.decode(column: "unassigned", as: Int.self) == 1
                return ComplaintNote(
                    atMs: try row.decode(column: "at_ms", as: Int64.self),
                    userID: try row.decode(column: "user_id", as: Int64?.self),
                    state: try row.decode(column: "state", as: String?.self).flatMap(ComplaintState.init(rawValue:)),
                    assigneeID: unassigned ? .some(nil) : assignee.map { .some($0) },
                    note: try row.decode(column: "note", as: String?.self),
                    reply: try row.decode(column: "reply", as: String?.self)
                )
            }
        }
    }

    private static func complaintRecord(_ row: any SQLRow) throws -> ComplaintRecord {
        ComplaintRecord(
            complaint: Complaint(
                id: try row.decode(column: "id", as: Int64.self),
                branchID: try row.decode(column: "branch_id", as: Int64.self),
                ticketID: try row.decode(column: "ticket_id", as: Int64.self),
                text: try row.decode(column: "text", as: String?.self),
                state: ComplaintState(rawValue: try row.decode(column: "state", as: String.self)) ?? .open,
                assigneeID: try row.decode(column: "assignee_id", as: Int64?.self),
                reply: try row.decode(column: "reply", as: String?.self),
                repliedAtMs: try row.decode(column: "replied_at_ms", as: Int64?.self),
                createdAtMs: try row.decode(column: "created_at_ms", as: Int64.self),
                updatedAtMs: try row.decode(column: "updated_at_ms", as: Int64.self)
            ),
            ticketNumber: TicketNumber(prefix: try row.decode(column: "prefix", as: String.self), sequence: try row.decode(column: "sequence", as: Int.self))
                .description,
            serviceID: try row.decode(column: "service_id", as: Int64.self),
            queueID: try row.decode(column: "queue_id", as: Int64?.self),
            servedBy: try row.decode(column: "served_by", as: Int64?.self)
        )
    }
}
