import Foundation
import SQLKit
import Synchronization

/// API keys for machines: `tk_<prefix>_<secret>`, shown once, stored as a SHA-256 hash, with scopes, revocable.
public enum APIKeys {
    static let prefix = "tk_"

    /// When each key's last use was last written, so a busy kiosk costs one write a minute, not one per request.
    /// By the key's hash, which no two keys share even across databases (servers in one test process).
    private static let lastUseWritten = Mutex<[String: Int64]>([:])

    public struct Created: Codable, Sendable {
        public var id: Int64
        public var name: String
        public var scopes: [Scope]
        public var prefix: String
        /// The key itself: shown in this answer only.
        public var key: String
        public var createdAt: Date
    }

    public struct Listed: Codable, Sendable {
        public var id: Int64
        public var name: String
        public var scopes: [Scope]
        public var prefix: String
        public var createdAt: Date
        public var lastUsedAt: Date?
        public var revokedAt: Date?
    }

    static func create(name: String, scopes: Set<Scope>, by principal: Principal, address: String, storage: Storage) async throws -> Created {
        let visible = RandomToken.make(bytes: 6)
        let key = "\(prefix)\(visible)_\(RandomToken.make(bytes: 24))"
        return try await storage.write { transaction in
            guard
                let row = try await transaction.sql.raw(
                    """
                    INSERT INTO api_keys (organization_id, name, prefix, key_hash, scopes, created_by, created_at_ms)
                    VALUES (\(bind: principal.organizationID), \(bind: name), \(bind: prefix + visible), \(bind: SecretHash.of(key)),
                            \(bind: scopes.map(\.rawValue).sorted().joined(separator: " ")), \(bind: principal.userID), \(bind: transaction.timeMs))
                    RETURNING id
                    """
                ).first()
            else { throw DatabaseUnavailable("the database did not return the new key's id") }
            let id = try row.decode(column: "id", as: Int64.self)
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "api_key.created",
                target: "api_key:\(id)",
                detail: ["name": name, "scopes": scopes.map(\.rawValue).sorted().joined(separator: " ")],
                address: address
            )
            return Created(
                id: id,
                name: name,
                scopes: scopes.sorted { $0.rawValue < $1.rawValue },
                prefix: prefix + visible,
                key: key,
                createdAt: Date(milliseconds: transaction.timeMs)
            )
        }
    }

    static func list(organizationID: Int64, storage: Storage) async throws -> [Listed] {
        try await storage.read { sql in
            try await sql.raw(
                """
                SELECT id, name, scopes, prefix, created_at_ms, last_used_at_ms, revoked_at_ms FROM api_keys
                WHERE organization_id = \(bind: organizationID) ORDER BY id
                """
            ).all().map { row in
                Listed(
                    id: try row.decode(column: "id", as: Int64.self),
                    name: try row.decode(column: "name", as: String.self),
                    scopes: try row.decode(column: "scopes", as: String.self).split(separator: " ").map { Scope(rawValue: String($0)) },
                    prefix: try row.decode(column: "prefix", as: String.self),
                    createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                    lastUsedAt: try row.decode(column: "last_used_at_ms", as: Int64?.self).map(Date.init(milliseconds:)),
                    revokedAt: try row.decode(column: "revoked_at_ms", as: Int64?.self).map(Date.init(milliseconds:))
                )
            }
        }
    }

    /// Revokes a key of the principal's organization; false when there is no such key there.
    static func revoke(id: Int64, by principal: Principal, address: String, storage: Storage) async throws -> Bool {
        try await storage.write { transaction in
            let revoked = try await transaction.sql.raw(
                """
                UPDATE api_keys SET revoked_at_ms = \(bind: transaction.timeMs)
                WHERE id = \(bind: id) AND organization_id = \(bind: principal.organizationID) AND revoked_at_ms IS NULL RETURNING id
                """
            ).first()
            guard revoked != nil else {
                return try await transaction.sql.raw("SELECT id FROM api_keys WHERE id = \(bind: id) AND organization_id = \(bind: principal.organizationID)")
                    .first() != nil
            }
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "api_key.revoked",
                target: "api_key:\(id)",
                detail: [:],
                address: address
            )
            return true
        }
    }

    static func principal(for key: String, storage: Storage) async throws -> Principal {
        let hash = SecretHash.of(key)
        let found = try await storage.read { sql in
            try await sql.raw(
                """
                SELECT id, organization_id, name, scopes FROM api_keys WHERE key_hash = \(bind: hash) AND revoked_at_ms IS NULL
                """
            ).first()
        }
        guard let found else {
            throw Problem(
                .unauthorized,
                title: "Invalid credentials",
                detail: "the API key is unknown or revoked",
                headers: [.wwwAuthenticate: #"Bearer error="invalid_token""#]
            )
        }
        let id = try found.decode(column: "id", as: Int64.self)
        let now = storage.clock.nowMilliseconds()
        let due = lastUseWritten.withLock { written in
            guard now - (written[hash] ?? 0) >= 60_000 else { return false }
            written[hash] = now
            return true
        }
        if due {
            try await storage.write { transaction in
                try await transaction.sql.raw("UPDATE api_keys SET last_used_at_ms = \(bind: transaction.timeMs) WHERE id = \(bind: id)").run()
            }
        }
        let scopes = Set(try found.decode(column: "scopes", as: String.self).split(separator: " ").map { Scope(rawValue: String($0)) })
        return Principal(
            kind: .apiKey(id: id, name: try found.decode(column: "name", as: String.self), scopes: scopes),
            organizationID: try found.decode(column: "organization_id", as: Int64.self),
            branchIDs: [],
            viaSessionCookie: false
        )
    }
}
