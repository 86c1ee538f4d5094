import TurnoCore

/// Changes to a branch's set-up — the branch, its services, its counters. Each runs in one transaction with the
/// rule it must keep (unique prefixes) and its audit row; controllers only parse, call one of these and encode.
struct SetupCommands: Sendable {
    let store: QueueStore
    let storage: Storage

    func createBranch(_ branch: Branch, by principal: Principal, address: String) async throws -> Branch {
        try await storage.write { transaction in
            let created = try await store.createBranch(branch, in: transaction)
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "branch.created",
                target: "branch:\(created.id)",
                detail: ["name": created.name],
                address: address
            )
            return created
        }
    }

    func updateBranch(_ branch: Branch, by principal: Principal, address: String) async throws {
        try await storage.write { transaction in
            try await store.updateBranch(branch, in: transaction)
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "branch.changed",
                target: "branch:\(branch.id)",
                detail: ["open": String(branch.isOpen), "routing": branch.routingMode.rawValue],
                address: address
            )
        }
    }

    func createService(_ service: Service) async throws -> Service {
        try await storage.write { transaction in
            try await checkPrefixFree(service, in: transaction)
            return try await store.createService(service, in: transaction)
        }
    }

    func updateService(_ service: Service) async throws {
        try await storage.write { transaction in
            try await checkPrefixFree(service, in: transaction)
            try await store.updateService(service, in: transaction)
        }
    }

    func deleteService(_ service: Service) async throws {
        try await storage.write { try await store.deactivateService(service, in: $0) }
    }

    func createQueue(_ queue: Queue) async throws -> Queue {
        try await storage.write { try await store.createQueue(queue, in: $0) }
    }

    func updateQueue(_ queue: Queue) async throws {
        try await storage.write { try await store.updateQueue(queue, in: $0) }
    }

    /// Removes a counter that is closed or has no ticket.
    func deleteQueue(_ queue: Queue, in state: BranchState) async throws {
        guard queue.state == .closed || state.tickets.values.allSatisfy({ $0.queueID != queue.id }) else {
            throw QueueRuleViolation.queueHasTickets(counter: queue.counter)
        }
        try await storage.write { try await store.deactivateQueue(queue, in: $0) }
    }

    /// Ticket numbers start with the prefix, so two services of a branch cannot share one.
    private func checkPrefixFree(_ service: Service, in transaction: Transaction) async throws {
        let others = try await store.services(of: service.branchID, sql: transaction.sql).filter { $0.id != service.id }
        if others.contains(where: { $0.prefix == service.prefix }) { throw QueueRuleViolation.prefixTaken(service.prefix) }
    }
}
