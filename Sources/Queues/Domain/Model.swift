/// Identifiers are database ids; a customer never sees a ticket id, only its token.
public typealias BranchID = Int64
public typealias ServiceID = Int64
public typealias QueueID = Int64
public typealias TicketID = Int64
public typealias StaffID = Int64

/// How a branch hands tickets to counters.
public enum RoutingMode: String, Sendable, Codable, CaseIterable {
    /// A new ticket goes at once to the least-loaded open counter that serves its service.
    case dedicated
    /// Tickets wait on their service's line; whichever counter calls next takes the head.
    case pooled
}

/// A location: its own counters, services, numbering and local day.
public struct Branch: Sendable, Equatable, Codable {
    public var id: BranchID
    public var organizationID: Int64
    public var name: String
    /// IANA time zone, such as `Europe/Rome`: it decides the local day for numbering and reports.
    public var timeZone: String
    /// Language of announcements and pages: `en` or `it`.
    public var language: String
    public var routingMode: RoutingMode
    public var isOpen: Bool
    /// The unguessable, stable id in public URLs (kiosk, display, snapshot), so that branches cannot be enumerated.
    public var publicID: String
    /// The classes customers may choose themselves at a kiosk or on the web; staff (and keys with
    /// `tickets:classes`) may give any class.
    public var selfServiceClasses: Set<CustomerClass>
    /// When its kiosk and its display pages were first opened: the last steps of the first-start checklist.
    public var kioskOpenedAtMs: Int64?
    public var displayOpenedAtMs: Int64?
    /// When it is open; nil when it has none set, and takes tickets whenever it is open (`isOpen`).
    public var openingHours: OpeningHours?
    /// Whether counters open by themselves when a shift at them starts and close when the last one ends.
    public var countersFollowShifts: Bool

    /// The self-service classes in the enumeration's order, as they are stored and shown.
    public var orderedSelfServiceClasses: [CustomerClass] { CustomerClass.allCases.filter(selfServiceClasses.contains) }

    public init(
        id: BranchID,
        organizationID: Int64,
        name: String,
        timeZone: String,
        language: String,
        routingMode: RoutingMode,
        isOpen: Bool,
        publicID: String = "",
        selfServiceClasses: Set<CustomerClass> = [.regular],
        kioskOpenedAtMs: Int64? = nil,
        displayOpenedAtMs: Int64? = nil,
        openingHours: OpeningHours? = nil,
        countersFollowShifts: Bool = false
    ) {
        self.id = id
        self.organizationID = organizationID
        self.name = name
        self.timeZone = timeZone
        self.language = language
        self.routingMode = routingMode
        self.isOpen = isOpen
        self.publicID = publicID
        self.selfServiceClasses = selfServiceClasses
        self.kioskOpenedAtMs = kioskOpenedAtMs
        self.displayOpenedAtMs = displayOpenedAtMs
        self.openingHours = openingHours
        self.countersFollowShifts = countersFollowShifts
    }
}

/// The public pages of a branch that the first-start checklist follows.
public enum BranchPage: String, Sendable {
    case kiosk, display
}

/// What a customer comes for.
public struct Service: Sendable, Equatable, Codable {
    public var id: ServiceID
    public var branchID: BranchID
    public var name: String
    /// One to three capital letters that start its ticket numbers: `A` in `A001`.
    public var prefix: String
    /// 0 to 10: how much sooner its customers are called.
    public var priorityWeight: Int
    public var targetWaitSeconds: Int
    /// Used for wait estimates until a counter has finished services of its own.
    public var defaultServiceSeconds: Int

    public init(id: ServiceID, branchID: BranchID, name: String, prefix: String, priorityWeight: Int, targetWaitSeconds: Int, defaultServiceSeconds: Int) {
        self.id = id
        self.branchID = branchID
        self.name = name
        self.prefix = prefix
        self.priorityWeight = priorityWeight
        self.targetWaitSeconds = targetWaitSeconds
        self.defaultServiceSeconds = defaultServiceSeconds
    }
}

public enum QueueState: String, Sendable, Codable, CaseIterable {
    /// Takes new tickets and calls.
    case open
    /// Takes no new tickets but keeps and calls its waiting ones.
    case paused
    /// Holds no waiting tickets: closing hands them to other counters.
    case closed
}

/// A counter or desk, serving some of the branch's services.
public struct Queue: Sendable, Equatable, Codable {
    public var id: QueueID
    public var branchID: BranchID
    public var name: String
    /// What customers are told: "go to counter 3".
    public var counter: String
    public var serviceIDs: Set<ServiceID>
    public var state: QueueState
    public var operatorIDs: Set<StaffID>
    /// When it last received a ticket (milliseconds since 1970), for breaking ties fairly.
    public var lastAssignedAtMs: Int64?
    /// Exponentially weighted average of its finished services, in seconds.
    public var averageServiceSeconds: Double?

    public init(
        id: QueueID,
        branchID: BranchID,
        name: String,
        counter: String,
        serviceIDs: Set<ServiceID>,
        state: QueueState,
        operatorIDs: Set<StaffID> = [],
        lastAssignedAtMs: Int64? = nil,
        averageServiceSeconds: Double? = nil
    ) {
        self.id = id
        self.branchID = branchID
        self.name = name
        self.counter = counter
        self.serviceIDs = serviceIDs
        self.state = state
        self.operatorIDs = operatorIDs
        self.lastAssignedAtMs = lastAssignedAtMs
        self.averageServiceSeconds = averageServiceSeconds
    }

    /// Whether new tickets for `service` may come here: the queue is open and serves it.
    public func acceptsTickets(for service: ServiceID) -> Bool {
        state == .open && serviceIDs.contains(service)
    }
}

/// Who the customer is, for priority: no names, only a class.
public enum CustomerClass: String, Sendable, Codable, CaseIterable {
    case regular, senior, priority, vip
}

/// Where the ticket was taken.
public enum Channel: String, Sendable, Codable, CaseIterable {
    case kiosk, online, bot, staff
}

public enum TicketState: String, Sendable, Codable, CaseIterable {
    case waiting, called, serving, served
    case noShow = "no_show"
    case cancelled, held, expired

    /// Still in the branch's hands: waiting, held, or at a counter.
    public var isActive: Bool { [.waiting, .held, .called, .serving].contains(self) }
}

/// `A001`: the service's prefix and the day's sequence for that service at that branch.
public struct TicketNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public var prefix: String
    public var sequence: Int

    public init(prefix: String, sequence: Int) {
        self.prefix = prefix
        self.sequence = sequence
    }

    public var description: String {
        prefix + (sequence < 1000 ? String(repeating: "0", count: 3 - String(sequence).count) : "") + String(sequence)
    }

    /// How displays spell it out for speech: "A 0 0 1".
    public var spoken: String {
        description.map(String.init).joined(separator: " ")
    }
}

/// A customer's place in the branch. Reached by staff through `id`, by the customer only through `token`.
public struct Ticket: Sendable, Equatable, Codable {
    public var id: TicketID
    public var branchID: BranchID
    /// At least 128 random bits; the only way a customer reaches the ticket.
    public var token: String
    public var number: TicketNumber
    public var serviceID: ServiceID
    /// The counter it waits at or was called to; nil while it waits on a pooled line or is held.
    public var queueID: QueueID?
    public var customerClass: CustomerClass
    public var channel: Channel
    public var state: TicketState
    public var issuedAtMs: Int64
    public var calledAtMs: Int64?
    public var startedAtMs: Int64?
    public var finishedAtMs: Int64?
    public var recallCount: Int
    /// Why it is held, shown to the customer.
    public var heldReason: String?
    /// When it was last transferred; it keeps its issue time, so staff are told why it may stand first in a line.
    public var transferredAtMs: Int64?

    public init(
        id: TicketID,
        branchID: BranchID,
        token: String,
        number: TicketNumber,
        serviceID: ServiceID,
        queueID: QueueID?,
        customerClass: CustomerClass,
        channel: Channel,
        state: TicketState,
        issuedAtMs: Int64,
        calledAtMs: Int64? = nil,
        startedAtMs: Int64? = nil,
        finishedAtMs: Int64? = nil,
        recallCount: Int = 0,
        heldReason: String? = nil,
        transferredAtMs: Int64? = nil
    ) {
        self.id = id
        self.branchID = branchID
        self.token = token
        self.number = number
        self.serviceID = serviceID
        self.queueID = queueID
        self.customerClass = customerClass
        self.channel = channel
        self.state = state
        self.issuedAtMs = issuedAtMs
        self.calledAtMs = calledAtMs
        self.startedAtMs = startedAtMs
        self.finishedAtMs = finishedAtMs
        self.recallCount = recallCount
        self.heldReason = heldReason
        self.transferredAtMs = transferredAtMs
    }
}

/// The rules of a customer's rating of their visit.
public enum TicketRating {
    public static let stars = 1...5
    public static let commentLimit = 1_000

    /// Whether `ticket` may be rated so: 1 to 5 stars, a comment of at most 1,000 characters, and only once served.
    public static func check(rating: Int, comment: String?, of ticket: Ticket) throws(QueueRuleViolation) {
        guard stars.contains(rating) else { throw .ratingOutOfRange }
        if let comment, comment.count > commentLimit { throw .commentTooLong(limit: commentLimit) }
        guard ticket.state == .served else { throw .notServedYet(ticket: ticket.number.description) }
    }
}
