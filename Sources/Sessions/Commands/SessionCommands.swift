import TurnoCore

/// Recording, changing and deleting sessions. Each runs in one transaction: the idempotency key, the domain's rules
/// (`SessionFields.applied`), the rows and the per-user roll-ups and athlete sums that keep statistics exact.
public struct SessionCommands: Sendable {
    let store: SessionStore
    let storage: Storage

    public init(store: SessionStore, storage: Storage) {
        self.store = store
        self.storage = storage
    }

    /// Stores valid sessions; with an Idempotency-Key used before for the same request, answers what it made then.
    public func record(
        _ sessions: [ExerciseSession],
        idempotencyKey: IdempotencyKey? = nil,
        organizationID: Int64
    ) async throws -> [SessionStore.Outcome] {
        guard !sessions.isEmpty else { return [] }
        return try await storage.write { transaction in
            if let idempotencyKey, case .replay(let id) = try await transaction.claim(idempotencyKey, for: "session") {
                guard let id = Int64(id), let existing = try await store.session(id: id, organizationID: organizationID, sql: transaction.sql)
                else { throw DatabaseUnavailable("the session of an earlier request with this key is gone") }
                return sessions.map { _ in .existing(existing) }
            }
            let outcomes = try await store.insert(sessions, organizationID: organizationID, in: transaction)
            if let idempotencyKey, let first = outcomes.first?.session.id {
                try await transaction.remember(idempotencyKey, made: "session", id: first)
            }
            return outcomes
        }
    }

    /// Applies `fields` to a stored session; nil when there is no such session in the organization.
    public func change(id: Int64, with fields: SessionFields, nowMs: Int64, organizationID: Int64) async throws -> ExerciseSession? {
        try await storage.write { transaction in
            guard let before = try await store.session(id: id, organizationID: organizationID, sql: transaction.sql) else { return nil }
            let after = try fields.applied(to: before, nowMs: nowMs)
            try await store.replace(before, with: after, organizationID: organizationID, in: transaction)
            return after
        }
    }

    /// Deletes a session; false when there is no such session in the organization.
    public func delete(id: Int64, organizationID: Int64) async throws -> Bool {
        try await storage.write { transaction in
            guard let session = try await store.session(id: id, organizationID: organizationID, sql: transaction.sql) else { return false }
            try await store.delete(session, organizationID: organizationID, in: transaction)
            return true
        }
    }
}
