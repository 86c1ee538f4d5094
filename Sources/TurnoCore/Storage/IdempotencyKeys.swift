import Crypto
import Foundation
import SQLKit

/// A request's `Idempotency-Key`, scoped to whoever sent it (Stripe's rules): a key names one request of one
/// caller for 24 hours. The same key from another caller is another key; the same key with another request
/// (method, path or body) is refused.
public struct IdempotencyKey: Sendable, Equatable {
    /// Whose key it is: `user:3`, `api_key:7`, or `address:203.0.113.9` for anonymous callers.
    public var scope: String
    public var key: String
    /// SHA-256 of the method, path and body of the request that first used the key.
    public var fingerprint: String

    /// How long a key is remembered.
    public static let lifetimeMs: Int64 = 24 * 3_600_000

    public init(scope: String, key: String, fingerprint: String) {
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
    }

    /// The fingerprint of a request: two requests are the same when their method, path and body bytes are.
    public static func fingerprint(method: String, path: String, body: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("\(method) \(path)\n".utf8))
        hasher.update(data: Array(body))
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// What claiming a key inside a write transaction found.
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is new (or its earlier use is more than 24 hours old): go on, then `remember` what was made.
    case claimed
    /// An earlier request with this key made the thing with this id; answer with it and change nothing.
    case replay(id: String)
}

/// A key that comes back with a different request.
public struct IdempotencyKeyReused: Error, Sendable {
    public let key: String
}

extension Transaction {
    /// Claims `key` for this transaction, for making a `kind` of thing (`ticket`, `delivery`). The row is written first,
    /// so a second request with the same key waits on it (PostgreSQL) or runs after it (SQLite) and then finds what
    /// the first one made.
    public func claim(_ key: IdempotencyKey, for kind: String) async throws -> IdempotencyClaim {
        let expired = timeMs - IdempotencyKey.lifetimeMs
        let inserted = try await sql.raw(
            """
            INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, resource, created_at_ms)
            VALUES (\(bind: key.scope), \(bind: key.key), \(bind: key.fingerprint), '', \(bind: timeMs))
            ON CONFLICT (scope, idempotency_key) DO UPDATE SET fingerprint = excluded.fingerprint, resource = '', created_at_ms = excluded.created_at_ms
            WHERE idempotency_keys.created_at_ms < \(bind: expired)
            RETURNING created_at_ms
            """
        ).first()
        if inserted != nil { return .claimed }
        guard
            let row = try await sql.raw(
                """
                SELECT fingerprint, resource FROM idempotency_keys WHERE scope = \(bind: key.scope) AND idempotency_key = \(bind: key.key)
                """
            ).first()
        else { return .claimed }
        guard try row.decode(column: "fingerprint", as: String.self) == key.fingerprint else { throw IdempotencyKeyReused(key: key.key) }
        let resource = try row.decode(column: "resource", as: String.self)
        // The fingerprint covers the path, so the same request made the same kind of thing.
        guard resource.hasPrefix(kind + ":") else { throw DatabaseUnavailable("the \(kind) an earlier request with this key made is unknown") }
        return .replay(id: String(resource.dropFirst(kind.count + 1)))
    }

    /// Records what the request that claimed `key` made: the `kind` of thing (as claimed) and its id.
    public func remember(_ key: IdempotencyKey, made kind: String, id: some CustomStringConvertible) async throws {
        try await sql.raw(
            """
            UPDATE idempotency_keys SET resource = \(bind: "\(kind):\(id)") WHERE scope = \(bind: key.scope) AND idempotency_key = \(bind: key.key)
            """
        ).run()
    }
}

extension Storage {
    static let idempotencyMigration = Migration(module: "core", version: 3, name: "idempotency keys per caller") { _ in
        [
            """
            CREATE TABLE idempotency_keys (
                scope TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                resource TEXT NOT NULL,
                created_at_ms BIGINT NOT NULL,
                PRIMARY KEY (scope, idempotency_key)
            )
            """,
            "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at_ms)",
        ]
    }
}
