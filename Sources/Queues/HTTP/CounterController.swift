import Foundation
import Hummingbird
import TurnoCore

/// What staff do at the counters: `POST /api/v1/queues/{id}/open|pause|close|call-next`, `GET /api/v1/queues/{id}/tickets`,
/// `POST /api/v1/tickets/{id}/recall|start|finish|no-show|transfer`.
struct CounterController: Sendable {
    let store: QueueStore
    /// For the names of the colleagues a ticket can be transferred to.
    let directory: StaffDirectory

    /// Where to send a ticket: another service's line, one counter (`queue`), or the counter a colleague (`user`)
    /// works at; `service` alone, or with a counter or colleague to change the service on the way.
    struct TransferRequest: Decodable {
        var service: ServiceID?
        var queue: QueueID?
        var user: StaffID?

        func target() throws -> TransferTarget {
            switch (queue, user) {
            case (let queue?, nil): return .queue(queue, service: service)
            case (nil, let user?): return .colleague(user, service: service)
            case (nil, nil):
                guard let service else { throw Problem.unprocessable("name where the ticket goes: a service, a queue or a user") }
                return .service(service)
            case (.some, .some): throw Problem.unprocessable("name a queue or a user to transfer to, not both")
            }
        }
    }

    struct WaitingTicket: Codable, Sendable {
        var id: TicketID
        var number: String
        var service: String
        var serviceId: ServiceID
        var customerClass: CustomerClass
        var issuedAt: Date
        /// Set when it was transferred here: it keeps its issue time, which is why it may stand first.
        var transferredAt: Date?
        var waitedS: Int
        var position: Int
    }

    struct Line: Codable, ResponseEncodable {
        var queue: SetupController.QueueView
        var current: TicketEventData?
        var items: [WaitingTicket]
    }

    /// Someone assigned to counters of the branch: a colleague a ticket can be transferred to.
    struct Operator: Codable, Sendable {
        var id: StaffID
        var username: String
        var queues: [QueueID]
    }

    struct Operators: Codable, ResponseEncodable {
        var items: [Operator]
    }

    struct QueueChange: Codable, ResponseEncodable {
        var queue: SetupController.QueueView
        /// Closing: the tickets moved to other counters or held, in the order they were handled.
        var reallocated: [TicketEventData]
    }

    func add(to router: Router<TurnoRequestContext>) {
        let operation = router.group("/api/v1").add(middleware: RequireAccess(.queueOperation))
        for action in ["open", "pause", "close"] {
            operation.post("/queues/:queue/\(action)") { _, context -> QueueChange in
                let (queueID, branchID) = try await authorizedQueue(context)
                let principal = try context.requirePrincipal()
                let (events, state) = try await store.perform(on: branchID, organizationID: principal.organizationID) { state, transaction in
                    let events: [QueueEvent] =
                        switch action {
                        case "open": try state.open(queueID, nowMs: transaction.timeMs)
                        case "pause": try state.pause(queueID)
                        default: try state.close(queueID, nowMs: transaction.timeMs)
                        }
                    if action != "pause" {
                        try await Audit.record(
                            in: transaction,
                            organizationID: principal.organizationID,
                            actor: principal.auditName,
                            action: "queue.\(action == "open" ? "opened" : "closed")",
                            target: "queue:\(queueID)",
                            detail: ["moved": String(events.count - 1)],
                            address: context.clientAddress
                        )
                    }
                    return events
                }
                let moved = events.dropFirst().compactMap(\.ticket).map { TicketEventData($0, state: state) }
                return QueueChange(queue: .init(state.queues[queueID]!), reallocated: action == "close" ? moved : [])
            }
        }
        operation.post("/queues/:queue/call-next") { _, context -> Response in
            let (queueID, branchID) = try await authorizedQueue(context)
            let (events, state) = try await store.perform(on: branchID, organizationID: context.requirePrincipal().organizationID) { state, transaction in
                try state.callNext(at: queueID, nowMs: transaction.timeMs)
            }
            guard let called = events.last?.ticket, called.state == .called else { return Response(status: .noContent) }
            return try Response.json(TicketEventData(called, state: state))
        }
        for action in ["recall", "start", "finish", "no-show"] {
            operation.post("/tickets/:ticket/\(action)") { _, context -> TicketEventData in
                let ticket = try await authorizedTicket(context, operating: true)
                let (events, state) = try await store.perform(on: ticket.branchID, organizationID: context.requirePrincipal().organizationID) {
                    state,
                    transaction in
                    switch action {
                    case "recall": try state.recall(ticket.id, nowMs: transaction.timeMs)
                    case "start": try state.start(ticket.id, nowMs: transaction.timeMs)
                    case "finish": try state.finish(ticket.id, nowMs: transaction.timeMs)
                    default: try state.noShow(ticket.id, nowMs: transaction.timeMs)
                    }
                }
                return TicketEventData(events.last!.ticket!, state: state)
            }
        }

        let desk = router.group("/api/v1").add(middleware: RequireAccess(.ticketDesk))
        desk.get("/queues/:queue/tickets") { _, context -> Line in
            let (queueID, branchID) = try await authorizedQueue(context, operating: false)
            let state = try await store.state(of: branchID, organizationID: context.requirePrincipal().organizationID)
            let now = WallClock.nowMilliseconds()
            let line = state.line(of: queueID).enumerated().map { index, ticket in
                WaitingTicket(
                    id: ticket.id,
                    number: ticket.number.description,
                    service: state.services[ticket.serviceID]?.name ?? "",
                    serviceId: ticket.serviceID,
                    customerClass: ticket.customerClass,
                    issuedAt: Date(timeIntervalSince1970: Double(ticket.issuedAtMs) / 1000),
                    transferredAt: ticket.transferredAtMs.map { Date(timeIntervalSince1970: Double($0) / 1000) },
                    waitedS: Int((now - ticket.issuedAtMs) / 1000),
                    position: index + 1
                )
            }
            return Line(queue: .init(state.queues[queueID]!), current: state.current(at: queueID).map { TicketEventData($0, state: state) }, items: line)
        }
        desk.get("/branches/:branch/operators") { _, context -> Operators in
            guard let branchID = context.parameters.get("branch", as: Int64.self) else { throw Problem.notFound("there is no such branch") }
            let state = try await store.state(of: branchID, organizationID: context.requirePrincipal().organizationID)
            try QueueAccess.check(context.requirePrincipal(), branch: state.branch)
            let assignments = state.queues.values.flatMap { queue in queue.operatorIDs.map { ($0, queue.id) } }
            let items = Dictionary(grouping: assignments, by: \.0).compactMap { id, pairs -> Operator? in
                guard let user = directory.user(id: id), user.active else { return nil }
                return Operator(id: id, username: user.username, queues: pairs.map(\.1).sorted())
            }
            return Operators(items: items.sorted { $0.username < $1.username })
        }
        desk.post("/tickets/:ticket/transfer") { request, context -> TicketEventData in
            let target = try await request.decode(as: TransferRequest.self, context: context).target()
            let ticket = try await authorizedTicket(context, operating: false)
            let principal = try context.requirePrincipal()
            let (events, state) = try await store.perform(on: ticket.branchID, organizationID: principal.organizationID) { state, transaction in
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
                    address: context.clientAddress
                )
                return events
            }
            return TicketEventData(events.last!.ticket!, state: state)
        }
    }

    /// The queue in the path and its branch, after checking the caller may act on it.
    private func authorizedQueue(_ context: TurnoRequestContext, operating: Bool = true) async throws -> (QueueID, BranchID) {
        let principal = try context.requirePrincipal()
        guard let queueID = context.parameters.get("queue", as: Int64.self), let branchID = try await store.branchID(ofQueue: queueID) else {
            throw Problem.notFound("there is no such queue")
        }
        let state = try await store.state(of: branchID, organizationID: principal.organizationID)
        guard let queue = state.queues[queueID] else { throw Problem.notFound("there is no queue \(queueID)") }
        if operating {
            try QueueAccess.check(principal, queue: queue, branch: state.branch)
        } else {
            try QueueAccess.check(principal, branch: state.branch)
        }
        return (queueID, branchID)
    }

    /// The ticket in the path, after checking the caller may act on it (operators: at a queue of theirs).
    private func authorizedTicket(_ context: TurnoRequestContext, operating: Bool) async throws -> Ticket {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("ticket", as: Int64.self), let ticket = try await store.ticket(id: id),
            let branch = try await store.branch(ticket.branchID), branch.organizationID == principal.organizationID
        else { throw Problem.notFound("there is no such ticket") }
        try QueueAccess.check(principal, branch: branch)
        if operating, principal.role == .operator, let queueID = ticket.queueID {
            let state = try await store.state(of: branch.id, organizationID: branch.organizationID)
            if let queue = state.queues[queueID] { try QueueAccess.check(principal, queue: queue, branch: branch) }
        }
        return ticket
    }
}

extension TicketEventData: ResponseEncodable {}
