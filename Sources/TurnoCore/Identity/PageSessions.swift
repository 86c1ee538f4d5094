import Foundation
import SQLKit

/// Sign-in for the staff pages: a session cookie (HttpOnly, SameSite=Strict, Secure) whose hash is stored,
/// and a CSRF token that every state-changing request from a page must carry.
extension Identity {
    static let sessionCookie = "turno_session"

    /// Starts a page session for `user`; returns the cookie value and the session's CSRF token.
    func startPageSession(for user: StaffUser) async throws -> (cookie: String, csrf: String) {
        let secret = RandomToken.make(bytes: 32)
        let csrf = RandomToken.make(bytes: 24)
        try await storage.write { transaction in
            try await transaction.sql.raw("DELETE FROM page_sessions WHERE expires_at_ms < \(bind: transaction.timeMs)").run()
            try await transaction.sql.raw(
                """
                INSERT INTO page_sessions (session_hash, user_id, csrf_token, token_epoch, expires_at_ms, created_at_ms)
                VALUES (\(bind: SecretHash.of(secret)), \(bind: user.id), \(bind: csrf), \(bind: user.tokenEpoch),
                        \(bind: transaction.timeMs + Int64(settings.pageSessionSeconds) * 1000), \(bind: transaction.timeMs))
                """
            ).run()
        }
        return (secret, csrf)
    }

    /// The principal and CSRF token of a live page session, or nil when the cookie is unknown, expired,
    /// or older than the user's last password or role change.
    func pageSession(cookie: String) async throws -> (Principal, csrf: String)? {
        let row = try await storage.read { sql in
            try await sql.raw(
                """
                SELECT user_id, csrf_token, token_epoch, expires_at_ms FROM page_sessions WHERE session_hash = \(bind: SecretHash.of(cookie))
                """
            ).first()
        }
        guard let row,
            try row.decode(column: "expires_at_ms", as: Int64.self) > storage.clock.nowMilliseconds(),
            let user = directory.user(id: try row.decode(column: "user_id", as: Int64.self)),
            user.active, user.tokenEpoch == (try row.decode(column: "token_epoch", as: Int64.self))
        else { return nil }
        let principal = Principal(
            kind: .user(id: user.id, username: user.username, role: user.role),
            organizationID: user.organizationID,
            branchIDs: user.branchIDs,
            viaSessionCookie: true
        )
        return (principal, try row.decode(column: "csrf_token", as: String.self))
    }

    func endPageSession(cookie: String) async throws {
        try await storage.write { transaction in
            try await transaction.sql.raw("DELETE FROM page_sessions WHERE session_hash = \(bind: SecretHash.of(cookie))").run()
        }
    }
}

extension Identity {
    /// Those of `userIDs` signed in now: active, with a page session or a sign-in (an unused refresh token) that has
    /// neither expired nor been ended, nor outlived a change of password or role.
    public func signedIn(among userIDs: Set<Int64>) async throws -> Set<Int64> {
        guard !userIDs.isEmpty else { return [] }
        let now = storage.clock.nowMilliseconds()
        let ids = SQLList(userIDs.sorted().map { SQLBind($0) })
        return try await storage.read { sql in
            let rows = try await sql.raw(
                """
                SELECT s.user_id FROM page_sessions s JOIN users u ON u.id = s.user_id AND u.token_epoch = s.token_epoch AND u.active = 1
                WHERE s.user_id IN (\(ids)) AND s.expires_at_ms > \(bind: now)
                UNION
                SELECT r.user_id FROM refresh_tokens r JOIN users u ON u.id = r.user_id AND u.token_epoch = r.token_epoch AND u.active = 1
                WHERE r.user_id IN (\(ids)) AND r.expires_at_ms > \(bind: now) AND r.revoked_at_ms IS NULL AND r.used_at_ms IS NULL
                """
            ).all()
            return Set(try rows.map { try $0.decode(column: "user_id", as: Int64.self) })
        }
    }
}
