import Foundation
import TurnoCore

/// How queue events are written to the log and which live topics hear them: `branch:{public id}` (displays,
/// dashboards), `queue:{organization}:{id}` (the operator's console) and `ticket:{token}` (the customer). Event data never
/// contains a token: the branch topic is public.
enum QueueEvents {
    static func newEvent(for event: QueueEvent, state: BranchState) throws -> NewEvent {
        let branch = state.branch
        if let ticket = event.ticket {
            var topics = ["branch:\(branch.publicID)", "ticket:\(ticket.token)"]
            if let queue = ticket.queueID { topics.insert(queueTopic(queue, of: branch), at: 1) }
            if case .ticketReassigned(_, let from?) = event { topics.append(queueTopic(from, of: branch)) }
            // The counter it left hears it too, so that console's line and current ticket follow.
            if case .ticketTransferred(_, _, let from?) = event, from != ticket.queueID { topics.append(queueTopic(from, of: branch)) }
            var data = TicketEventData(ticket, state: state)
            if case .ticketTransferred(_, let service, let queue) = event { (data.fromServiceId, data.fromQueueId) = (service, queue) }
            if case .ticketReassigned(_, let from) = event { data.fromQueueId = from }
            return try NewEvent(tenant: branch.organizationID, stream: "ticket:\(ticket.id)", type: event.type, topics: topics, data: data)
        }
        let queue = event.queue!
        var data = QueueEventData(queue)
        if case .queueClosed(_, let moved) = event { data.reallocatedTicketIds = moved }
        return try NewEvent(
            tenant: branch.organizationID,
            stream: "queue:\(queue.id)",
            type: event.type,
            topics: ["branch:\(branch.publicID)", queueTopic(queue.id, of: branch)],
            data: data
        )
    }

    /// A counter's topic names its organization: queue ids are sequential, and only that organization's staff may follow it.
    static func queueTopic(_ queue: QueueID, of branch: Branch) -> String {
        "queue:\(branch.organizationID):\(queue)"
    }
}

/// A ticket as events and public answers show it: no token, no personal data.
struct TicketEventData: Codable, Sendable {
    var id: TicketID
    var branchId: BranchID
    var number: String
    var spoken: String
    var serviceId: ServiceID
    var service: String
    var queueId: QueueID?
    var counter: String?
    var state: TicketState
    var customerClass: CustomerClass
    var channel: Channel
    var issuedAt: Date
    var calledAt: Date?
    var startedAt: Date?
    var finishedAt: Date?
    var recallCount: Int
    var heldReason: String?
    var transferredAt: Date?
    var fromServiceId: ServiceID?
    var fromQueueId: QueueID?

    init(_ ticket: Ticket, state: BranchState) {
        id = ticket.id
        branchId = ticket.branchID
        number = ticket.number.description
        spoken = ticket.number.spoken
        serviceId = ticket.serviceID
        service = state.services[ticket.serviceID]?.name ?? ""
        queueId = ticket.queueID
        counter = ticket.queueID.flatMap { state.queues[$0]?.counter }
        self.state = ticket.state
        customerClass = ticket.customerClass
        channel = ticket.channel
        issuedAt = Date(milliseconds: ticket.issuedAtMs)
        calledAt = ticket.calledAtMs.map(Date.init(milliseconds:))
        startedAt = ticket.startedAtMs.map(Date.init(milliseconds:))
        finishedAt = ticket.finishedAtMs.map(Date.init(milliseconds:))
        recallCount = ticket.recallCount
        heldReason = ticket.heldReason
        transferredAt = ticket.transferredAtMs.map(Date.init(milliseconds:))
    }
}

struct QueueEventData: Codable, Sendable {
    var id: QueueID
    var branchId: BranchID
    var name: String
    var counter: String
    var state: QueueState
    var serviceIds: [ServiceID]
    var reallocatedTicketIds: [TicketID]?

    init(_ queue: Queue) {
        id = queue.id
        branchId = queue.branchID
        name = queue.name
        counter = queue.counter
        state = queue.state
        serviceIds = queue.serviceIDs.sorted()
    }
}
