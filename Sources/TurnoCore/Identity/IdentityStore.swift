import Crypto
import Foundation
import SQLKit

/// The identity tables: organizations, staff users, refresh tokens, page sessions, API keys,
/// failed logins, the audit trail and the platform's own secrets.
enum IdentityStore {
    static let migrations: [Migration] = [
        Migration(module: "core", version: 2, name: "identity") { kind in
            let id = kind == .postgres ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
            return [
                "CREATE TABLE organizations (id \(id), name TEXT NOT NULL, created_at_ms BIGINT NOT NULL)",
                """
                CREATE TABLE users (
                    id \(id),
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    username TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    branch_ids TEXT NOT NULL DEFAULT '',
                    active INTEGER NOT NULL DEFAULT 1,
                    token_epoch BIGINT NOT NULL DEFAULT 1,
                    created_at_ms BIGINT NOT NULL,
                    updated_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX users_organization ON users (organization_id)",
                """
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY,
                    user_id BIGINT NOT NULL REFERENCES users (id),
                    family TEXT NOT NULL,
                    token_epoch BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL,
                    used_at_ms BIGINT,
                    revoked_at_ms BIGINT,
                    created_at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
                "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",
                """
                CREATE TABLE page_sessions (
                    session_hash TEXT PRIMARY KEY,
                    user_id BIGINT NOT NULL REFERENCES users (id),
                    csrf_token TEXT NOT NULL,
                    token_epoch BIGINT NOT NULL,
                    expires_at_ms BIGINT NOT NULL,
                    created_at_ms BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id \(id),
                    organization_id BIGINT NOT NULL REFERENCES organizations (id),
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    created_by BIGINT,
                    created_at_ms BIGINT NOT NULL,
                    last_used_at_ms BIGINT,
                    revoked_at_ms BIGINT
                )
                """,
                "CREATE TABLE login_failures (username TEXT NOT NULL, at_ms BIGINT NOT NULL)",
                "CREATE INDEX login_failures_username ON login_failures (username, at_ms)",
                """
                CREATE TABLE audit_log (
                    id \(id),
                    organization_id BIGINT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    address TEXT NOT NULL,
                    at_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX audit_log_organization ON audit_log (organization_id, id)",
                "CREATE TABLE platform_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            ]
        }
    ]

    static let passwordChangeMigration = Migration(module: "core", version: 4, name: "when each password was last changed") { _ in
        ["ALTER TABLE users ADD COLUMN password_changed_at_ms BIGINT"]
    }

    static let userColumns = "id, organization_id, username, password_hash, role, branch_ids, active, token_epoch, password_changed_at_ms"

    static func user(from row: any SQLRow) throws -> StaffUser {
        StaffUser(
            id: try row.decode(column: "id", as: Int64.self),
            organizationID: try row.decode(column: "organization_id", as: Int64.self),
            username: try row.decode(column: "username", as: String.self),
            role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .operator,
            branchIDs: decodeIDs(try row.decode(column: "branch_ids", as: String.self)),
            active: try row.decode(column: "active", as: Int.self) != 0,
            tokenEpoch: try row.decode(column: "token_epoch", as: Int64.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            passwordChangedAtMs: try row.decode(column: "password_changed_at_ms", as: Int64?.self)
        )
    }

    static func encodeIDs(_ ids: Set<Int64>) -> String {
        ids.sorted().map(String.init).joined(separator: " ")
    }

    static func decodeIDs(_ text: String) -> Set<Int64> {
        Set(text.split(separator: " ").compactMap { Int64($0) })
    }

    static func user(named username: String, in sql: any SQLDatabase) async throws -> StaffUser? {
        try await sql.raw("SELECT \(unsafeRaw: userColumns) FROM users WHERE username = \(bind: username)").first().map(user(from:))
    }

    static func user(id: Int64, in sql: any SQLDatabase) async throws -> StaffUser? {
        try await sql.raw("SELECT \(unsafeRaw: userColumns) FROM users WHERE id = \(bind: id)").first().map(user(from:))
    }

    static func allUsers(in sql: any SQLDatabase) async throws -> [StaffUser] {
        try await sql.raw("SELECT \(unsafeRaw: userColumns) FROM users").all().map(user(from:))
    }

    /// The organization's staff accounts, oldest first.
    static func users(organizationID: Int64, in sql: any SQLDatabase) async throws -> [StaffUser] {
        try await sql.raw("SELECT \(unsafeRaw: userColumns) FROM users WHERE organization_id = \(bind: organizationID) ORDER BY id").all().map(user(from:))
    }

    /// Writes an account's role, branches, state, token epoch and password (an empty hash keeps the stored one).
    static func update(_ user: StaffUser, at time: Int64, in sql: any SQLDatabase) async throws {
        try await sql.raw(
            """
            UPDATE users SET role = \(bind: user.role.rawValue), branch_ids = \(bind: encodeIDs(user.branchIDs)),
                active = \(bind: user.active ? 1 : 0), token_epoch = \(bind: user.tokenEpoch),
                password_hash = CASE WHEN \(bind: user.passwordHash) = '' THEN password_hash ELSE \(bind: user.passwordHash) END,
                password_changed_at_ms = \(bind: user.passwordChangedAtMs), updated_at_ms = \(bind: time)
            WHERE id = \(bind: user.id)
            """
        ).run()
    }

    /// How many active administrators the organization has besides `id`.
    static func activeAdministrators(organizationID: Int64, excluding id: Int64, in sql: any SQLDatabase) async throws -> Int {
        try await sql.raw(
            """
            SELECT COUNT(*) AS n FROM users WHERE organization_id = \(bind: organizationID) AND role = 'admin' AND active = 1 AND id <> \(bind: id)
            """
        ).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    static func notePasswordChosen(userID: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw("UPDATE users SET password_changed_at_ms = \(bind: transaction.timeMs) WHERE id = \(bind: userID)").run()
    }

    static func insertUser(
        organizationID: Int64,
        username: String,
        passwordHash: String,
        role: Role,
        branchIDs: Set<Int64>,
        at time: Int64,
        in sql: any SQLDatabase
    ) async throws -> StaffUser {
        guard
            let row = try await sql.raw(
                """
                INSERT INTO users (organization_id, username, password_hash, role, branch_ids, active, token_epoch, created_at_ms, updated_at_ms)
                VALUES (\(bind: organizationID), \(bind: username), \(bind: passwordHash), \(bind: role.rawValue), \(bind: encodeIDs(branchIDs)), 1, 1, \(bind: time), \(bind: time))
                RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new user's id") }
        return StaffUser(
            id: try row.decode(column: "id", as: Int64.self),
            organizationID: organizationID,
            username: username,
            role: role,
            branchIDs: branchIDs,
            active: true,
            tokenEpoch: 1,
            passwordHash: passwordHash
        )
    }
}

extension IdentityStore {
    // MARK: Secrets and organizations

    /// The key access tokens are signed with: the one stored, or a new random one stored now.
    static func signingKey(in transaction: Transaction) async throws -> String {
        if let row = try await transaction.sql.raw("SELECT value FROM platform_secrets WHERE name = 'jwt_signing_key'").first() {
            return try row.decode(column: "value", as: String.self)
        }
        let generated = RandomToken.make(bytes: 48)
        try await transaction.sql.raw("INSERT INTO platform_secrets (name, value) VALUES ('jwt_signing_key', \(bind: generated))").run()
        return generated
    }

    static func hasOrganizations(in sql: any SQLDatabase) async throws -> Bool {
        try await sql.raw("SELECT COUNT(*) AS n FROM organizations").first()?.decode(column: "n", as: Int.self) ?? 0 > 0
    }

    static func insertOrganization(name: String, in transaction: Transaction) async throws -> Int64 {
        guard
            let row = try await transaction.sql.raw(
                """
                INSERT INTO organizations (name, created_at_ms) VALUES (\(bind: name), \(bind: transaction.timeMs)) RETURNING id
                """
            ).first()
        else { throw DatabaseUnavailable("the database did not return the new organization's id") }
        return try row.decode(column: "id", as: Int64.self)
    }

    // MARK: Failed sign-ins

    /// When `username`'s failed sign-ins since `sinceMs` happened, oldest first.
    static func loginFailures(of username: String, sinceMs: Int64, in sql: any SQLDatabase) async throws -> [Int64] {
        try await sql.raw(
            """
            SELECT at_ms FROM login_failures WHERE username = \(bind: username) AND at_ms > \(bind: sinceMs) ORDER BY at_ms
            """
        ).all().map { try $0.decode(column: "at_ms", as: Int64.self) }
    }

    static func noteLoginFailure(of username: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw("INSERT INTO login_failures (username, at_ms) VALUES (\(bind: username), \(bind: transaction.timeMs))").run()
    }

    static func forgetLoginFailures(of username: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw("DELETE FROM login_failures WHERE username = \(bind: username)").run()
    }

    // MARK: Refresh tokens

    /// A stored refresh token (only its hash is kept).
    struct RefreshToken: Sendable {
        var userID: Int64
        /// The sign-in session it belongs to: every token rotated from one sign-in shares it.
        var family: String
        var tokenEpoch: Int64
        var expiresAtMs: Int64
        var usedAtMs: Int64?
        var revokedAtMs: Int64?
    }

    static func insertRefreshToken(hash: String, of user: StaffUser, family: String, expiresAtMs: Int64, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            """
            INSERT INTO refresh_tokens (token_hash, user_id, family, token_epoch, expires_at_ms, created_at_ms)
            VALUES (\(bind: hash), \(bind: user.id), \(bind: family), \(bind: user.tokenEpoch), \(bind: expiresAtMs), \(bind: transaction.timeMs))
            """
        ).run()
    }

    static func refreshToken(hash: String, in sql: any SQLDatabase) async throws -> RefreshToken? {
        guard
            let row = try await sql.raw(
                """
                SELECT user_id, family, token_epoch, expires_at_ms, used_at_ms, revoked_at_ms FROM refresh_tokens WHERE token_hash = \(bind: hash)
                """
            ).first()
        else { return nil }
        return RefreshToken(
            userID: try row.decode(column: "user_id", as: Int64.self),
            family: try row.decode(column: "family", as: String.self),
            tokenEpoch: try row.decode(column: "token_epoch", as: Int64.self),
            expiresAtMs: try row.decode(column: "expires_at_ms", as: Int64.self),
            usedAtMs: try row.decode(column: "used_at_ms", as: Int64?.self),
            revokedAtMs: try row.decode(column: "revoked_at_ms", as: Int64?.self)
        )
    }

    /// Marks the token used; false when another request used it first.
    static func claimRefreshToken(hash: String, in transaction: Transaction) async throws -> Bool {
        try await transaction.sql.raw(
            """
            UPDATE refresh_tokens SET used_at_ms = \(bind: transaction.timeMs) WHERE token_hash = \(bind: hash) AND used_at_ms IS NULL RETURNING token_hash
            """
        ).first() != nil
    }

    /// Revokes every refresh token of a sign-in session.
    static func revokeRefreshTokens(family: String, in transaction: Transaction) async throws {
        try await transaction.sql.raw(
            "UPDATE refresh_tokens SET revoked_at_ms = \(bind: transaction.timeMs) WHERE family = \(bind: family) AND revoked_at_ms IS NULL"
        ).run()
    }
}

/// SHA-256 in lowercase hex: how refresh tokens, page sessions and API keys are stored.
enum SecretHash {
    static func of(_ secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Random secrets with at least 128 bits, URL-safe.
public enum RandomToken {
    /// `bytes` random bytes (default 24, 192 bits) in unpadded base64url.
    public static func make(bytes: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
