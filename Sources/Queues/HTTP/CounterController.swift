import Foundation
import Hummingbird
import TurnoCore

/// What staff do at the counters: `POST /api/v1/queues/{queue}/open|pause|close|call-next`, `GET /api/v1/queues/{queue}/tickets`,
/// `POST /api/v1/tickets/{ticket}/recall|start|finish|no-show|transfer`, `GET /api/v1/tickets/{ticket}/history`.
struct CounterController: Sendable {
    let store: QueueStore
    let commands: CounterCommands
    /// For the names of the colleagues a ticket can be transferred to.
    let directory: StaffDirectory
    /// For how long each ticket in a line has waited.
    let clock: any ServerClock
    /// The outbox, for the alerts a ticket's history lists.
    let notifications: NotificationStore

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

    /// One step of a ticket's history: what happened, when, by whom (a staff member; none for the customer, a kiosk
    /// or the server), and the service and counter it stood at afterwards.
    struct HistoryStep: Codable, Sendable {
        struct Staff: Codable, Sendable {
            var id: StaffID
            var username: String?
        }

        var step: String
        var at: Date
        var by: Staff?
        var serviceId: ServiceID
        var service: String?
        var queueId: QueueID?
        var counter: String?
        var fromServiceId: ServiceID?
        var fromQueueId: QueueID?
    }

    struct History: Codable, ResponseEncodable {
        var ticket: TicketEventData
        var steps: [HistoryStep]
        /// The alerts sent (or being sent) to the customer about this ticket: channel and outcome, never the address.
        var notifications: [NotificationRecord]
    }

    struct QueueChange: Codable, ResponseEncodable {
        var queue: SetupController.QueueView
        /// Closing: the tickets moved to other counters or held, in the order they were handled.
        var reallocated: [TicketEventData]
    }

    func add(to router: Router<TurnoRequestContext>) {
        let operation = router.group("/api/v1").add(middleware: RequireAccess(.queueOperation))
        for action in CounterCommands.QueueAction.allCases {
            operation.post("/queues/:queue/\(action.rawValue)") { try await changeQueue(action, $1) }
        }
        operation.post("/queues/:queue/call-next", use: callNext)
        for action in CounterCommands.TicketAction.allCases {
            operation.post("/tickets/:ticket/\(action.rawValue)") { try await act(action, $1) }
        }
        let desk = router.group("/api/v1").add(middleware: RequireAccess(.ticketDesk))
        desk.get("/queues/:queue/tickets", use: line)
        desk.get("/branches/:branch/operators", use: operators)
        desk.post("/tickets/:ticket/transfer", use: transfer)
        desk.get("/tickets/:ticket/history", use: history)
    }

    @Sendable func changeQueue(_ action: CounterCommands.QueueAction, _ context: TurnoRequestContext) async throws -> QueueChange {
        let (queueID, branchID) = try await authorizedQueue(context)
        let (events, state) = try await commands.change(
            action,
            queueID: queueID,
            branchID: branchID,
            by: context.requirePrincipal(),
            address: context.clientAddress
        )
        let moved = events.dropFirst().compactMap(\.ticket).map { TicketEventData($0, state: state) }
        return QueueChange(queue: .init(state.queues[queueID]!), reallocated: action == .close ? moved : [])
    }

    @Sendable func callNext(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let (queueID, branchID) = try await authorizedQueue(context)
        let (events, state) = try await commands.callNext(queueID: queueID, branchID: branchID, by: context.requirePrincipal())
        guard let called = events.last?.ticket, called.state == .called else { return Response(status: .noContent) }
        return try Response.json(TicketEventData(called, state: state))
    }

    @Sendable func act(_ action: CounterCommands.TicketAction, _ context: TurnoRequestContext) async throws -> TicketEventData {
        let ticket = try await authorizedTicket(context, operating: true)
        let (events, state) = try await commands.act(action, on: ticket, by: context.requirePrincipal())
        return TicketEventData(events.last!.ticket!, state: state)
    }

    @Sendable func line(_ request: Request, context: TurnoRequestContext) async throws -> Line {
        let (queueID, branchID) = try await authorizedQueue(context, operating: false)
        let state = try await store.state(of: branchID, organizationID: context.requirePrincipal().organizationID)
        let now = clock.nowMilliseconds()
        let line = state.line(of: queueID).enumerated().map { index, ticket in
            WaitingTicket(
                id: ticket.id,
                number: ticket.number.description,
                service: state.services[ticket.serviceID]?.name ?? "",
                serviceId: ticket.serviceID,
                customerClass: ticket.customerClass,
                issuedAt: Date(milliseconds: ticket.issuedAtMs),
                transferredAt: ticket.transferredAtMs.map(Date.init(milliseconds:)),
                waitedS: Int((now - ticket.issuedAtMs) / 1000),
                position: index + 1
            )
        }
        return Line(queue: .init(state.queues[queueID]!), current: state.current(at: queueID).map { TicketEventData($0, state: state) }, items: line)
    }

    @Sendable func operators(_ request: Request, context: TurnoRequestContext) async throws -> Operators {
        guard let branchID = context.parameters.get("branch", as: Int64.self) else { throw Problem.notFound("there is no such branch") }
        let principal = try context.requirePrincipal()
        let state = try await store.state(of: branchID, organizationID: principal.organizationID)
        try QueueAccess.check(principal, branch: state.branch)
        let assignments = state.queues.values.flatMap { queue in queue.operatorIDs.map { ($0, queue.id) } }
        let items = Dictionary(grouping: assignments, by: \.0).compactMap { id, pairs -> Operator? in
            guard let user = directory.user(id: id), user.active else { return nil }
            return Operator(id: id, username: user.username, queues: pairs.map(\.1).sorted())
        }
        return Operators(items: items.sorted { $0.username < $1.username })
    }

    @Sendable func transfer(_ request: Request, context: TurnoRequestContext) async throws -> TicketEventData {
        let target = try await request.decode(as: TransferRequest.self, context: context).target()
        let ticket = try await authorizedTicket(context, operating: false)
        let (events, state) = try await commands.transfer(ticket, to: target, by: context.requirePrincipal(), address: context.clientAddress)
        return TicketEventData(events.last!.ticket!, state: state)
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
    @Sendable func history(_ request: Request, context: TurnoRequestContext) async throws -> History {
        let ticket = try await authorizedTicket(context, operating: false)
        let state = try await store.state(of: ticket.branchID, organizationID: context.requirePrincipal().organizationID)
        let steps = try await store.steps(of: ticket.id).map { step, atMs, userID in
            HistoryStep(
                step: step.step,
                at: Date(milliseconds: atMs),
                by: userID.map { HistoryStep.Staff(id: $0, username: directory.user(id: $0)?.username) },
                serviceId: step.serviceID,
                service: state.services[step.serviceID]?.name,
                queueId: step.queueID,
                counter: step.queueID.flatMap { state.queues[$0]?.counter },
                fromServiceId: step.fromServiceID,
                fromQueueId: step.fromQueueID
            )
        }
        return History(ticket: TicketEventData(ticket, state: state), steps: steps, notifications: try await notifications.notifications(ofTicket: ticket.id))
    }

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
