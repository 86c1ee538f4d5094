/// One step of a ticket's life as its history keeps it: what happened (the event's name without `ticket.`:
/// `issued`, `called`, `recalled`, `started`, `served`, `no_show`, `transferred`, `reassigned`, `held`, `cancelled`,
/// `expired`), the service and counter it stood at afterwards, and where a transfer or reallocation took it from.
/// Who did it and when are the command's to say.
public struct TicketStep: Sendable, Equatable {
    public var ticketID: TicketID
    public var branchID: BranchID
    public var step: String
    public var serviceID: ServiceID
    public var queueID: QueueID?
    public var fromQueueID: QueueID?
    public var fromServiceID: ServiceID?
}

extension TicketStep {
    /// The step `event` records; nil for events about counters rather than tickets.
    public init?(_ event: QueueEvent) {
        guard let ticket = event.ticket, event.type.hasPrefix("ticket.") else { return nil }
        let from: (service: ServiceID?, queue: QueueID?) =
            switch event {
            case .ticketTransferred(_, let service, let queue): (service, queue)
            case .ticketReassigned(_, let queue): (nil, queue)
            default: (nil, nil)
            }
        self.init(
            ticketID: ticket.id,
            branchID: ticket.branchID,
            step: String(event.type.dropFirst("ticket.".count)),
            serviceID: ticket.serviceID,
            queueID: ticket.queueID,
            fromQueueID: from.queue,
            fromServiceID: from.service
        )
    }
}
