import Foundation
import SQLKit
import TurnoCore

/// Someone following a ticket: how and where they are told, in which language.
struct TicketFollower: Sendable, Equatable {
    var id: Int64
    var ticketID: TicketID
    var branchID: BranchID
    var channel: FollowChannel
    /// The push subscription (JSON), the Telegram chat id, or the e-mail address.
    var address: String
    var language: String
    /// The server's public origin when they asked, for links back to the ticket's page.
    var origin: String
    var nearSent: Bool
    var createdAtMs: Int64
}

/// The SQL of alerts: ticket followers and branches' alert settings.
struct FollowerStore: Sendable {
    let storage: Storage

    static let columns = "id, ticket_id, branch_id, channel, address, language, origin, near_sent, created_at_ms"

    static func follower(from row: any SQLRow) throws -> TicketFollower? {
        guard let channel = FollowChannel(rawValue: try row.decode(column: "channel", as: String.self)) else { return nil }
        return TicketFollower(
            id: try row.decode(column: "id", as: Int64.self),
            ticketID: try row.decode(column: "ticket_id", as: Int64.self),
            branchID: try row.decode(column: "branch_id", as: Int64.self),
            channel: channel,
            address: try row.decode(column: "address", as: String.self),
            language: try row.decode(column: "language", as: String.self),
            origin: try row.decode(column: "origin", as: String.self),
            nearSent: try row.decode(column: "near_sent", as: Int.self) != 0,
            createdAtMs: try row.decode(column: "created_at_ms", as: Int64.self)
        )
    }

    func insert(_ follower: TicketFollower, in transaction: Transaction) async throws -> Int64 {
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO ticket_followers (ticket_id, branch_id, channel, address, language, origin, near_sent, created_at_ms)
                VALUES (\(bind: follower.ticketID), \(bind: follower.branchID), \(bind: follower.channel.rawValue), \(bind: follower.address),
                        \(bind: follower.language), \(bind: follower.origin), \(bind: follower.nearSent ? 1 : 0), \(bind: transaction.timeMs))
                RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new follower's id") }
        return try row.decode(column: "id", as: Int64.self)
    }

    func delete(_ id: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM ticket_followers WHERE id = \(bind: id)").run()
    }

    func followers(ofTicket ticketID: TicketID, sql: any SQLDatabase) async throws -> [TicketFollower] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM ticket_followers WHERE ticket_id = \(bind: ticketID) ORDER BY id")
            .all().compactMap(Self.follower(from:))
    }

    func followers(ofTickets ticketIDs: [TicketID], sql: any SQLDatabase) async throws -> [TicketFollower] {
        var followers: [TicketFollower] = []
        for start in stride(from: 0, to: ticketIDs.count, by: 500) {
            let chunk = Array(ticketIDs[start..<min(start + 500, ticketIDs.count)])
            followers += try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM ticket_followers WHERE ticket_id IN (\(binds: chunk))")
                .all().compactMap(Self.follower(from:))
        }
        return followers
    }

    /// The branches, of these (or of all when nil), where someone waits to be told that their turn is near.
    func branchesAwaitingNear(among branches: [BranchID]?, sql: any SQLDatabase) async throws -> [BranchID] {
        guard branches?.isEmpty != true else { return [] }
        let query: SQLQueryString =
            if let branches {
                "SELECT DISTINCT branch_id FROM ticket_followers WHERE near_sent = 0 AND branch_id IN (\(binds: branches))"
            } else {
                "SELECT DISTINCT branch_id FROM ticket_followers WHERE near_sent = 0"
            }
        return try await sql.raw(query).all().map { try $0.decode(column: "branch_id", as: Int64.self) }
    }

    /// The followers of these tickets not yet told that their turn is near.
    func awaitingNear(ofTickets ticketIDs: [TicketID], sql: any SQLDatabase) async throws -> [TicketFollower] {
        try await followers(ofTickets: ticketIDs, sql: sql).filter { !$0.nearSent }
    }

    func markNearSent(_ ids: [Int64], in transaction: Transaction) async throws {
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(start + 500, ids.count)])
            try await transaction.sql.raw("UPDATE ticket_followers SET near_sent = 1 WHERE id IN (\(binds: chunk))").run()
        }
    }

    func followers(_ ids: [Int64]) async throws -> [Int64: TicketFollower] {
        try await storage.read { sql in
            var followers: [Int64: TicketFollower] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk = Array(ids[start..<min(start + 500, ids.count)])
                for row in try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM ticket_followers WHERE id IN (\(binds: chunk))").all() {
                    if let follower = try Self.follower(from: row) { followers[follower.id] = follower }
                }
            }
            return followers
        }
    }

    /// The tickets a Telegram chat follows, newest first.
    func tickets(followedByChat chatID: Int64) async throws -> [TicketID] {
        try await storage.read { sql in
            try await sql.raw(
                "SELECT ticket_id FROM ticket_followers WHERE channel = 'telegram' AND address = \(bind: String(chatID)) ORDER BY id DESC LIMIT 10"
            ).all().map { try $0.decode(column: "ticket_id", as: Int64.self) }
        }
    }

    // MARK: Settings

    func settings(of branchID: BranchID, sql: any SQLDatabase) async throws -> BranchAlertSettings {
        guard let row = try await sql.raw("SELECT settings FROM branch_alert_settings WHERE branch_id = \(bind: branchID)").first() else {
            return .standard
        }
        return (try? JSONCoding.decoder.decode(BranchAlertSettings.self, from: Data(try row.decode(column: "settings", as: String.self).utf8))) ?? .standard
    }

    func settings(of branches: [BranchID], sql: any SQLDatabase) async throws -> [BranchID: BranchAlertSettings] {
        var settings: [BranchID: BranchAlertSettings] = [:]
        for branch in Set(branches) { settings[branch] = try await self.settings(of: branch, sql: sql) }
        return settings
    }

    func setSettings(_ settings: BranchAlertSettings, of branchID: BranchID, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            INSERT INTO branch_alert_settings (branch_id, settings, updated_at_ms) VALUES (\(bind: branchID), \(bind: try JSONCoding.text(settings)), \(bind: transaction.timeMs))
            ON CONFLICT (branch_id) DO UPDATE SET settings = excluded.settings, updated_at_ms = excluded.updated_at_ms
            """
        ).run()
    }
}
