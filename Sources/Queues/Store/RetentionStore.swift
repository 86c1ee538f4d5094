import SQLKit
import TurnoCore

/// How long each organization keeps its customers' details, and their erasure.
extension QueueStore {
    /// The organization's retention in days; nil when it keeps everything.
    func retentionDays(of organizationID: Int64) async throws -> Int? {
        try await storage.read { sql in
            try await sql.raw("SELECT days FROM retention WHERE organization_id = \(bind: organizationID)").first()?.decode(column: "days", as: Int.self)
        }
    }

    /// Every organization that has a retention, with its days.
    func retentions() async throws -> [(organizationID: Int64, days: Int)] {
        try await storage.read { sql in
            try await sql.raw("SELECT organization_id, days FROM retention").all().map {
                (try $0.decode(column: "organization_id", as: Int64.self), try $0.decode(column: "days", as: Int.self))
            }
        }
    }

    func setRetention(days: Int?, organizationID: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM retention WHERE organization_id = \(bind: organizationID)").run()
        if let days {
            try await transaction.sql.raw(
                "INSERT INTO retention (organization_id, days, changed_at_ms) VALUES (\(bind: organizationID), \(bind: days), \(bind: transaction.timeMs))"
            ).run()
        }
    }

    /// Erases the link (token) and comment of the organization's finished tickets issued before `beforeMs`; their
    /// figures (times, states, rating, steps) stay. Returns how many tickets it erased.
    func eraseCustomerDetails(organizationID: Int64, beforeMs: Int64, in transaction: Transaction) async throws -> Int {
        let erased = try await transaction.sql.raw(
            """
            UPDATE tickets SET token = 'erased-' || CAST(id AS TEXT), comment = NULL, erased_at_ms = \(bind: transaction.timeMs)
            WHERE erased_at_ms IS NULL AND issued_at_ms < \(bind: beforeMs) AND state IN ('served', 'no_show', 'cancelled', 'expired')
              AND branch_id IN (SELECT id FROM branches WHERE organization_id = \(bind: organizationID))
            RETURNING id
            """
        ).all().count
        guard erased > 0 else { return 0 }
        // Complaints about those tickets lose their words too: the customer's text, the notes and the replies.
        let complaints: SQLQueryString = """
            SELECT c.id FROM complaints c JOIN tickets t ON t.id = c.ticket_id
            WHERE t.erased_at_ms = \(bind: transaction.timeMs) AND t.branch_id IN (SELECT id FROM branches WHERE organization_id = \(bind: organizationID))
            """
        try await transaction.sql.raw("UPDATE complaint_notes SET note = NULL, reply = NULL WHERE complaint_id IN (\(complaints))").run()
        try await transaction.sql.raw("UPDATE complaints SET text = NULL, reply = NULL WHERE id IN (\(complaints))").run()
        // And the ways their holders asked to be told: push subscriptions, chats, e-mail addresses.
        try await transaction.sql.raw(
            """
            DELETE FROM ticket_followers WHERE ticket_id IN (
                SELECT id FROM tickets WHERE erased_at_ms = \(bind: transaction.timeMs)
                AND branch_id IN (SELECT id FROM branches WHERE organization_id = \(bind: organizationID)))
            """
        ).run()
        return erased
    }
}
