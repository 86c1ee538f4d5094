import Foundation
import Hummingbird
import TurnoCore

/// What a customer (and the kiosk) is told about a ticket: where it stands and how long it should take.
struct TicketStatus: Codable, Sendable, Equatable, ResponseEncodable {
    var id: TicketID
    var branchId: BranchID
    /// Follow `branch:{branch_public_id}` to hear the branch's calls.
    var branchPublicId: String
    var number: String
    var spoken: String
    var state: TicketState
    var serviceId: ServiceID
    var service: String
    var queueId: QueueID?
    var counter: String?
    /// 1 for the next to be called; nil when not waiting.
    var position: Int?
    var ahead: Int?
    /// The number being served at the ticket's counter (or its service's counters, in pooled mode).
    var nowServing: String?
    var etaS: Int?
    /// True when few enough people are ahead to start walking to the counter.
    var near: Bool
    var heldReason: String?
    var issuedAt: Date
    var calledAt: Date?
    /// When it was served, marked a no-show, cancelled or expired: a problem can be reported for seven days after.
    var finishedAt: Date?
    var language: String

    init(_ ticket: Ticket, in state: BranchState) {
        id = ticket.id
        branchId = ticket.branchID
        branchPublicId = state.branch.publicID
        number = ticket.number.description
        spoken = ticket.number.spoken
        self.state = ticket.state
        serviceId = ticket.serviceID
        let service = state.services[ticket.serviceID]
        self.service = service?.name ?? ""
        queueId = ticket.queueID
        counter = ticket.queueID.flatMap { state.queues[$0]?.counter }
        issuedAt = Date(milliseconds: ticket.issuedAtMs)
        calledAt = ticket.calledAtMs.map(Date.init(milliseconds:))
        finishedAt = ticket.finishedAtMs.map(Date.init(milliseconds:))
        heldReason = ticket.heldReason
        language = state.branch.language
        near = false
        // Counters that could call this ticket: its own, or (pooled) every open one serving its service.
        let counters: [Queue] =
            switch state.branch.routingMode {
            case .dedicated: ticket.queueID.flatMap { state.queues[$0] }.map { [$0] } ?? []
            case .pooled: state.queues.values.filter { $0.state != .closed && $0.serviceIDs.contains(ticket.serviceID) }
            }
        nowServing =
            counters.compactMap { state.current(at: $0.id) }
            .max { ($0.calledAtMs ?? 0) < ($1.calledAtMs ?? 0) }?.number.description
        if ticket.state == .waiting, let index = state.position(of: ticket).map({ $0 - 1 }) {
            position = index + 1
            ahead = index
            let averages = counters.compactMap(\.averageServiceSeconds)
            let average = averages.isEmpty ? Double(service?.defaultServiceSeconds ?? 300) : averages.reduce(0, +) / Double(averages.count)
            etaS = WaitEstimate.seconds(
                ahead: index,
                averageServiceSeconds: average,
                counters: max(1, counters.filter { $0.state == .open || $0.state == .paused }.count)
            )
            near = index <= state.policy.nearAlertAhead
        }
    }
}

/// The answer to issuing a ticket: its status plus the token and where to follow it.
struct IssuedTicket: Codable, Sendable {
    var id: TicketID
    var token: String
    var number: String
    var service: String
    var serviceId: ServiceID
    var queue: QueueID?
    var counter: String?
    var state: TicketState
    var position: Int?
    var ahead: Int?
    var etaS: Int?
    var statusUrl: String
    var pageUrl: String

    init(_ ticket: Ticket, status: TicketStatus) {
        id = ticket.id
        token = ticket.token
        number = status.number
        service = status.service
        serviceId = ticket.serviceID
        queue = ticket.queueID
        counter = status.counter
        state = ticket.state
        position = status.position
        ahead = status.ahead
        etaS = status.etaS
        statusUrl = "/api/v1/tickets/\(ticket.token)"
        pageUrl = "/t/\(ticket.token)"
    }
}

/// What a display needs: every counter with its state and who it serves, waiting counts, the last calls.
struct BranchSnapshot: Codable, Sendable, ResponseEncodable {
    struct QueueView: Codable, Sendable {
        var id: QueueID
        var name: String
        var counter: String
        var state: QueueState
        var serviceIds: [ServiceID]
        var nowServing: String?
        var waiting: Int
    }

    struct ServiceView: Codable, Sendable {
        var id: ServiceID
        var name: String
        var prefix: String
        var waiting: Int
        /// Whether an open counter serves it now (the kiosk shows the others disabled).
        var available: Bool
    }

    struct Call: Codable, Sendable {
        var number: String
        var spoken: String
        var counter: String?
        var calledAt: Date
    }

    var branchId: BranchID
    /// The id in the branch's public URLs and live topic.
    var publicId: String
    var name: String
    var language: String
    var timeZone: String
    var isOpen: Bool
    /// Against its opening hours, when it has them: whether it takes tickets now and when that changes.
    var opening: ScheduleController.OpeningNow?
    var routingMode: RoutingMode
    /// The classes a customer may choose at the kiosk.
    var selfServiceClasses: [CustomerClass]
    var queues: [QueueView]
    var services: [ServiceView]
    var lastCalls: [Call]
    /// The newest live event id when the snapshot was taken: follow `branch:{public_id}` from here.
    var liveId: Int64
}

extension QueueStore {
    /// The ticket whose token is the path's `:ticket` (a customer's link); 404 when there is none.
    func ticket(linkedFrom context: TurnoRequestContext) async throws -> Ticket {
        guard let token = context.parameters.get("ticket"), token.count <= 64, let ticket = try await ticket(token: token) else {
            throw Problem.notFound("there is no ticket with this link; it may have been mistyped")
        }
        return ticket
    }
}
