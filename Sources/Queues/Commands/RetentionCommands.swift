import TurnoCore

/// How long an organization keeps its customers' details, and the sweep that erases them once that time is up.
/// Both are audited in the transaction of the change.
struct RetentionCommands: Sendable {
    let store: QueueStore

    /// The longest retention that can be set: ten years.
    static let days = 1...3_650

    /// Sets the retention, in days, or keeps everything (nil).
    func set(days: Int?, by principal: Principal, address: String) async throws {
        if let days, !Self.days.contains(days) {
            throw QueueRuleViolation.retentionOutOfRange(Self.days)
        }
        try await store.storage.write { transaction in
            try await store.setRetention(days: days, organizationID: principal.organizationID, in: transaction)
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "retention.changed",
                target: "organization:\(principal.organizationID)",
                detail: ["days": days.map(String.init) ?? "none"],
                address: address
            )
        }
    }

    /// Erases, for every organization with a retention, the details of the tickets older than it; returns how many.
    @discardableResult
    func sweep() async throws -> Int {
        var erased = 0
        for (organizationID, days) in try await store.retentions() {
            erased += try await store.storage.write { transaction in
                let before = transaction.timeMs - Int64(days) * 86_400_000
                let count = try await store.eraseCustomerDetails(organizationID: organizationID, beforeMs: before, in: transaction)
                if count > 0 {
                    try await Audit.record(
                        in: transaction,
                        organizationID: organizationID,
                        actor: "server",
                        action: "tickets.erased",
                        target: "organization:\(organizationID)",
                        detail: ["count": String(count), "issued_before": Timestamp.format(milliseconds: before)],
                        address: ""
                    )
                }
                return count
            }
        }
        return erased
    }
}
