import TurnoCore

/// What staff do at a counter, each as one command on the branch: `QueueStore.perform` runs it in one transaction
/// with the branch locked and writes its tickets, their steps (by whom) and events; the command adds its audit row in
/// the same transaction.
struct CounterCommands: Sendable {
    let store: QueueStore

    /// Opening, pausing or closing a counter.
    enum QueueAction: String, CaseIterable, Sendable {
        case open, pause, close
    }

    /// What happens to the ticket at the counter.
    enum TicketAction: String, CaseIterable, Sendable {
        case recall, start, finish
        case noShow = "no-show"
    }

    /// Opens, pauses or closes a counter; opening and closing move tickets, so they are audited.
    func change(
        _ action: QueueAction,
        queueID: QueueID,
        branchID: BranchID,
        by principal: Principal,
        address: String
    ) async throws -> (events: [QueueEvent], state: BranchState) {
        try await store.perform(on: branchID, organizationID: principal.organizationID, by: principal.userID) { state, transaction in
            let events: [QueueEvent] =
                switch action {
                case .open: try state.open(queueID, nowMs: transaction.timeMs)
                case .pause: try state.pause(queueID)
                case .close: try state.close(queueID, nowMs: transaction.timeMs)
                }
            if action != .pause {
                try await Audit.record(
                    in: transaction,
                    organizationID: principal.organizationID,
                    actor: principal.auditName,
                    action: "queue.\(action == .open ? "opened" : "closed")",
                    target: "queue:\(queueID)",
                    detail: ["moved": String(events.count - 1)],
                    address: address
                )
            }
            return events
        }
    }

    /// Calls the next ticket of the counter's line (finishing the one still there); no events when nobody waits.
    func callNext(queueID: QueueID, branchID: BranchID, by principal: Principal) async throws -> (events: [QueueEvent], state: BranchState) {
        try await store.perform(on: branchID, organizationID: principal.organizationID, by: principal.userID) { state, transaction in
            try state.callNext(at: queueID, nowMs: transaction.timeMs)
        }
    }

    func act(_ action: TicketAction, on ticket: Ticket, by principal: Principal) async throws -> (events: [QueueEvent], state: BranchState) {
        try await store.perform(on: ticket.branchID, organizationID: principal.organizationID, by: principal.userID) { state, transaction in
            switch action {
            case .recall: try state.recall(ticket.id, nowMs: transaction.timeMs)
            case .start: try state.start(ticket.id, nowMs: transaction.timeMs)
            case .finish: try state.finish(ticket.id, nowMs: transaction.timeMs)
            case .noShow: try state.noShow(ticket.id, nowMs: transaction.timeMs)
            }
        }
    }

    /// Sends a ticket to another service, counter or colleague, audited with where it went.
    func transfer(
        _ ticket: Ticket,
        to target: TransferTarget,
        by principal: Principal,
        address: String
    ) async throws -> (events: [QueueEvent], state: BranchState) {
        try await store.perform(on: ticket.branchID, organizationID: principal.organizationID, by: principal.userID) { state, transaction in
            let events = try state.transfer(ticket.id, to: target, nowMs: transaction.timeMs)
            let moved = events.last?.ticket
            var detail = ["from_service": String(ticket.serviceID), "to_service": String(moved?.serviceID ?? ticket.serviceID)]
            switch target {
            case .service: break
            case .queue(let queue, _): detail["to_queue"] = String(queue)
            case .colleague(let user, _): (detail["to_user"], detail["to_queue"]) = (String(user), moved?.queueID.map(String.init))
            }
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "ticket.transferred",
                target: "ticket:\(ticket.id)",
                detail: detail,
                address: address
            )
            return events
        }
    }
}
