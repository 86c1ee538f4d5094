import TurnoCore

/// What happened in a branch, as the queue engine reports it. Each becomes one event in the log.
public enum QueueEvent: Sendable, Equatable {
    case ticketIssued(Ticket)
    case ticketCalled(Ticket)
    case ticketRecalled(Ticket)
    case ticketStarted(Ticket)
    case ticketServed(Ticket)
    case ticketNoShow(Ticket)
    case ticketTransferred(Ticket, fromService: ServiceID, fromQueue: QueueID?)
    case ticketCancelled(Ticket)
    /// Moved to another counter because its counter closed (or a held ticket was placed).
    case ticketReassigned(Ticket, fromQueue: QueueID?)
    case ticketHeld(Ticket)
    case ticketExpired(Ticket)
    case queueOpened(Queue)
    case queuePaused(Queue)
    case queueClosed(Queue, reallocated: [TicketID])

    /// The event type in the log and on live topics.
    public var type: String {
        switch self {
        case .ticketIssued: "ticket.issued"
        case .ticketCalled: "ticket.called"
        case .ticketRecalled: "ticket.recalled"
        case .ticketStarted: "ticket.started"
        case .ticketServed: "ticket.served"
        case .ticketNoShow: "ticket.no_show"
        case .ticketTransferred: "ticket.transferred"
        case .ticketCancelled: "ticket.cancelled"
        case .ticketReassigned: "ticket.reassigned"
        case .ticketHeld: "ticket.held"
        case .ticketExpired: "ticket.expired"
        case .queueOpened: "queue.opened"
        case .queuePaused: "queue.paused"
        case .queueClosed: "queue.closed"
        }
    }

    /// The ticket the event is about, if any.
    public var ticket: Ticket? {
        switch self {
        case .ticketIssued(let t), .ticketCalled(let t), .ticketRecalled(let t), .ticketStarted(let t), .ticketServed(let t),
            .ticketNoShow(let t), .ticketTransferred(let t, _, _), .ticketCancelled(let t), .ticketReassigned(let t, _),
            .ticketHeld(let t), .ticketExpired(let t):
            t
        case .queueOpened, .queuePaused, .queueClosed:
            nil
        }
    }

    /// The queue the event is about, if it is a queue event.
    public var queue: Queue? {
        switch self {
        case .queueOpened(let q), .queuePaused(let q), .queueClosed(let q, _): q
        default: nil
        }
    }
}

/// A rule of the queue engine that a command would break; becomes a 404, 409 or 422 problem.
public enum QueueRuleViolation: RuleViolation, Equatable {
    case unknownBranch(BranchID)
    case unknownService(ServiceID)
    case unknownQueue(QueueID)
    case unknownTicket(TicketID)
    case branchClosed
    /// Outside its opening hours: when it opens next (ISO 8601), and the special day it is, if one.
    case branchClosedNow(specialDay: String?, opensAt: String?)
    /// In the last minutes before closing, in which tickets stop.
    case branchStopsTickets(minutes: Int, closesAt: String)
    case noOpenQueue(service: String)
    case queueClosed(counter: String)
    /// The ticket's state does not allow the action: `finish` on a ticket never called, say.
    case invalidTransition(ticket: String, state: TicketState, action: String)
    case notAtThisQueue(ticket: String)
    case queueDoesNotServe(counter: String, service: String)
    case queueHasTickets(counter: String)
    case prefixTaken(String)
    /// A transfer to a colleague who works at no counter (open or paused) that serves the ticket's service.
    case colleagueAtNoCounter(StaffID, service: String)
    case ratingOutOfRange
    case commentTooLong(limit: Int)
    case notServedYet(ticket: String)
    case alreadyRated(ticket: String)
    case retentionOutOfRange(ClosedRange<Int>)

    public var kind: RuleViolationKind {
        switch self {
        case .unknownBranch, .unknownService, .unknownQueue, .unknownTicket: .notFound
        case .branchClosed, .branchClosedNow, .branchStopsTickets, .noOpenQueue, .queueClosed, .invalidTransition, .notAtThisQueue, .queueDoesNotServe,
            .colleagueAtNoCounter, .queueHasTickets,
            .prefixTaken, .notServedYet, .alreadyRated:
            .conflict
        case .ratingOutOfRange, .commentTooLong, .retentionOutOfRange: .invalid
        }
    }

    public var detail: String {
        switch self {
        case .unknownBranch(let id): "there is no branch \(id)"
        case .unknownService(let id): "there is no service \(id) at this branch"
        case .unknownQueue(let id): "there is no queue \(id) at this branch"
        case .unknownTicket(let id): "there is no active ticket \(id) at this branch"
        case .branchClosed: "the branch is closed"
        case .branchClosedNow(let specialDay, let opensAt):
            "the branch is closed\(specialDay.map { " for \($0)" } ?? "") and takes no tickets now"
                + (opensAt.map { "; it opens again at \($0)" } ?? "; no opening hours are planned")
        case .branchStopsTickets(let minutes, let closesAt):
            "the branch takes no more tickets today: it stops \(minutes) minutes before it closes, at \(closesAt)"
        case .noOpenQueue(let service): "no open counter serves \(service) right now"
        case .queueClosed(let counter): "counter \(counter) is closed"
        case .invalidTransition(let ticket, let state, let action):
            "ticket \(ticket) is \(state.rawValue.replacingOccurrences(of: "_", with: "-")), so it cannot be \(action)"
        case .notAtThisQueue(let ticket): "ticket \(ticket) is not at this counter"
        case .queueHasTickets(let counter): "close counter \(counter) first: it still has tickets"
        case .prefixTaken(let prefix): "another service of this branch already uses the prefix \(prefix)"
        case .ratingOutOfRange: "`rating` must be 1 to 5 stars"
        case .commentTooLong(let limit): "`comment` must have at most \(limit) characters"
        case .notServedYet(let ticket): "ticket \(ticket) can be rated once it has been served"
        case .alreadyRated(let ticket): "ticket \(ticket) has already been rated"
        case .retentionOutOfRange(let days): "`days` must be \(days.lowerBound) to \(days.upperBound); DELETE the retention to keep customers' details"
        case .queueDoesNotServe(let counter, let service): "counter \(counter) does not serve \(service); name a service it serves"
        case .colleagueAtNoCounter(let staffID, let service):
            "staff member \(staffID) works at no open or paused counter that serves \(service)"
        }
    }
}

/// Where a transferred ticket goes; a given service replaces the ticket's own.
public enum TransferTarget: Sendable, Equatable {
    /// The line of another service: the least-loaded counter serving it, or its pooled line.
    case service(ServiceID)
    /// One counter's own line (open or paused), which must serve the service.
    case queue(QueueID, service: ServiceID?)
    /// The least-loaded open or paused counter a colleague is assigned to that serves the service.
    case colleague(StaffID, service: ServiceID?)

    var serviceID: ServiceID? {
        switch self {
        case .service(let id): id
        case .queue(_, let service), .colleague(_, let service): service
        }
    }
}

/// Everything the queue engine needs to decide about one branch: its services, its queues and its active
/// tickets (waiting, held, called or serving). Commands change it and say what happened; they never do I/O.
///
/// Besides the tickets it keeps each line sorted in call order and the few tickets that are not waiting apart,
/// so that a command or a ticket's position costs a lookup, not a pass over every ticket of the branch.
public struct BranchState: Sendable, Equatable {
    public var branch: Branch {
        didSet { if oldValue.routingMode != branch.routingMode { reindex() } }
    }
    public var services: [ServiceID: Service] {
        didSet { reindex() }
    }
    public var queues: [QueueID: Queue]
    /// Active tickets only; finished ones leave the state when they finish.
    public private(set) var tickets = TicketTable()
    public var policy: QueuePolicy {
        didSet { reindex() }
    }
    /// The waiting tickets of each line, in call order.
    private var lines: [LineKey: [CallOrder.Rank]] = [:]
    /// Tickets called or being served.
    private var attended: Set<TicketID> = []
    private var held: Set<TicketID> = []
    /// Waiting and held tickets per service.
    private var waitingByService: [ServiceID: Int] = [:]

    /// Where a waiting ticket stands: its counter's line, or in pooled mode its service's line.
    private enum LineKey: Hashable, Sendable {
        case queue(QueueID?)
        case service(ServiceID)
    }

    public init(branch: Branch, services: [Service], queues: [Queue], tickets: [Ticket], policy: QueuePolicy = .standard) {
        self.branch = branch
        self.services = Dictionary(uniqueKeysWithValues: services.map { ($0.id, $0) })
        self.queues = Dictionary(uniqueKeysWithValues: queues.map { ($0.id, $0) })
        self.policy = policy
        for ticket in tickets where ticket.state.isActive { put(ticket) }
    }

    // MARK: Indexes

    private func lineKey(of ticket: Ticket) -> LineKey {
        switch branch.routingMode {
        case .dedicated: .queue(ticket.queueID)
        case .pooled: ticket.queueID.map(LineKey.queue) ?? .service(ticket.serviceID)
        }
    }

    private func rank(of ticket: Ticket) -> CallOrder.Rank {
        CallOrder.rank(of: ticket, weight: services[ticket.serviceID]?.priorityWeight ?? 0, policy: policy)
    }

    /// Adds or replaces an active ticket, or removes it when it is no longer active.
    private mutating func put(_ ticket: Ticket) {
        remove(ticket.id)
        guard ticket.state.isActive else { return }
        tickets[ticket.id] = ticket
        switch ticket.state {
        case .waiting:
            let rank = rank(of: ticket)
            let key = lineKey(of: ticket)
            lines[key, default: []].insert(rank, at: lines[key]?.insertionIndex(of: rank) ?? 0)
            waitingByService[ticket.serviceID, default: 0] += 1
        case .held:
            held.insert(ticket.id)
            waitingByService[ticket.serviceID, default: 0] += 1
        default:
            attended.insert(ticket.id)
        }
    }

    private mutating func remove(_ id: TicketID) {
        guard let ticket = tickets[id] else { return }
        tickets[id] = nil
        switch ticket.state {
        case .waiting:
            let key = lineKey(of: ticket)
            let rank = rank(of: ticket)
            if var line = lines.removeValue(forKey: key) {
                let index = line.insertionIndex(of: rank)
                if index < line.count, line[index] == rank { line.remove(at: index) }
                if !line.isEmpty { lines[key] = line }
            }
            waitingByService[ticket.serviceID, default: 1] -= 1
        case .held:
            held.remove(id)
            waitingByService[ticket.serviceID, default: 1] -= 1
        default:
            attended.remove(id)
        }
    }

    /// Rebuilds every index: after the routing mode, a service's weight or the policy changed.
    private mutating func reindex() {
        let all = tickets.values
        tickets = TicketTable()
        lines = [:]
        attended = []
        held = []
        waitingByService = [:]
        for ticket in all { put(ticket) }
    }

    // MARK: Reading

    /// Waiting tickets per queue (dedicated mode), for routing.
    public var waitingPerQueue: [QueueID: Int] {
        var counts: [QueueID: Int] = [:]
        for (key, line) in lines {
            if case .queue(let queueID?) = key { counts[queueID] = line.count }
        }
        return counts
    }

    /// Waiting and held tickets of a service.
    public func waitingCount(of serviceID: ServiceID) -> Int {
        waitingByService[serviceID] ?? 0
    }

    /// The keys of the lines a queue calls from: its own, and in pooled mode those of the services it serves.
    private func lineKeys(of queueID: QueueID) -> [LineKey] {
        guard let queue = queues[queueID] else { return [] }
        switch branch.routingMode {
        case .dedicated: return [.queue(queueID)]
        // Pooled counters also call the tickets transferred to them by name.
        case .pooled: return [.queue(queueID)] + queue.serviceIDs.sorted().map(LineKey.service)
        }
    }

    /// The waiting tickets a queue would call, in call order.
    public func line(of queueID: QueueID) -> [Ticket] {
        lineKeys(of: queueID).flatMap { lines[$0] ?? [] }.sorted().compactMap { tickets[$0.id] }
    }

    /// The waiting tickets from the front of each line while `keep` holds for them: a line's walk stops at its first
    /// ticket `keep` refuses, so a question that only the front can answer ("is its turn near?") costs the front.
    public func fronts(while keep: (Ticket) -> Bool) -> [Ticket] {
        var found: [Ticket] = []
        for line in lines.values {
            for rank in line {
                guard let ticket = tickets[rank.id], keep(ticket) else { break }
                found.append(ticket)
            }
        }
        return found
    }

    /// The ticket a queue would call next.
    public func head(of queueID: QueueID) -> Ticket? {
        lineKeys(of: queueID).compactMap { lines[$0]?.first }.min().flatMap { tickets[$0.id] }
    }

    /// A waiting ticket's place in its line (1 = next); nil when it is not waiting.
    public func position(of ticket: Ticket) -> Int? {
        guard let current = tickets[ticket.id], current.state == .waiting, let line = lines[lineKey(of: current)] else { return nil }
        let rank = rank(of: current)
        let index = line.insertionIndex(of: rank)
        return index < line.count && line[index] == rank ? index + 1 : nil
    }

    /// Whether an open queue takes tickets for a service.
    public func hasOpenQueue(for serviceID: ServiceID) -> Bool {
        queues.values.contains { $0.acceptsTickets(for: serviceID) }
    }

    /// The tickets waiting for a queue to open (none serves their service).
    public var heldTickets: [Ticket] {
        held.compactMap { tickets[$0] }.sorted { rank(of: $0) < rank(of: $1) }
    }

    /// The ticket being called or served at a queue, if any.
    public func current(at queueID: QueueID) -> Ticket? {
        attended.compactMap { tickets[$0] }.filter { $0.queueID == queueID }.max { ($0.calledAtMs ?? 0, $0.id) < ($1.calledAtMs ?? 0, $1.id) }
    }

    // MARK: Commands

    /// Routes a new ticket: in dedicated mode to the least-loaded open queue serving its service, in pooled mode
    /// to its service's line. `ticket` arrives with its id, token and number already chosen by the store.
    public mutating func issue(_ ticket: Ticket, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = ticket
        ticket.state = .waiting
        ticket.queueID = try route(ticket.serviceID)
        if let queueID = ticket.queueID { queues[queueID]?.lastAssignedAtMs = nowMs }
        put(ticket)
        return [.ticketIssued(ticket)]
    }

    /// Where a new ticket for a service goes: the least-loaded open queue serving it (dedicated mode), or its
    /// service's line, nil (pooled mode). Refuses when the branch is closed or no open queue serves the service.
    public func route(_ serviceID: ServiceID) throws(QueueRuleViolation) -> QueueID? {
        guard let service = services[serviceID] else { throw .unknownService(serviceID) }
        guard branch.isOpen else { throw .branchClosed }
        switch branch.routingMode {
        case .dedicated:
            guard let queue = Routing.leastLoadedQueue(for: service.id, in: queues.values, waiting: waitingPerQueue) else {
                throw .noOpenQueue(service: service.name)
            }
            return queue.id
        case .pooled:
            guard hasOpenQueue(for: service.id) else {
                throw .noOpenQueue(service: service.name)
            }
            return nil
        }
    }

    /// Calls the head of a queue's line. A ticket still called or being served at that counter is finished first
    /// (the operator has moved on). Returns no events when nobody waits.
    public mutating func callNext(at queueID: QueueID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        guard let queue = queues[queueID] else { throw .unknownQueue(queueID) }
        guard queue.state != .closed else { throw .queueClosed(counter: queue.counter) }
        guard var head = head(of: queueID) else { return [] }
        var events: [QueueEvent] = []
        if let current = current(at: queueID) {
            events += try finish(current.id, nowMs: nowMs)
        }
        head.state = .called
        head.queueID = queueID
        head.calledAtMs = nowMs
        put(head)
        events.append(.ticketCalled(head))
        return events
    }

    /// Calls a called ticket again; after the policy's number of recalls it becomes a no-show.
    public mutating func recall(_ id: TicketID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = try active(id, allowed: [.called], action: "recalled")
        ticket.recallCount += 1
        ticket.calledAtMs = nowMs
        put(ticket)
        if let limit = policy.noShowAfterRecalls, ticket.recallCount > limit {
            return try noShow(id, nowMs: nowMs)
        }
        return [.ticketRecalled(ticket)]
    }

    /// The customer has arrived at the counter.
    public mutating func start(_ id: TicketID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = try active(id, allowed: [.called], action: "started")
        ticket.state = .serving
        ticket.startedAtMs = nowMs
        put(ticket)
        return [.ticketStarted(ticket)]
    }

    /// Served: the ticket leaves, and its counter's average service time takes in this service.
    public mutating func finish(_ id: TicketID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = try active(id, allowed: [.called, .serving], action: "finished")
        ticket.state = .served
        if ticket.startedAtMs == nil { ticket.startedAtMs = ticket.calledAtMs }
        ticket.finishedAtMs = nowMs
        remove(id)
        if let queueID = ticket.queueID, let started = ticket.startedAtMs {
            let seconds = Double(max(0, nowMs - started)) / 1000
            let previous = queues[queueID]?.averageServiceSeconds
            queues[queueID]?.averageServiceSeconds = WaitEstimate.smoothed(previous: previous, sample: seconds, weight: policy.serviceTimeSmoothing)
        }
        return [.ticketServed(ticket)]
    }

    /// The customer did not come; by policy the ticket leaves or goes back to waiting with its place.
    public mutating func noShow(_ id: TicketID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = try active(id, allowed: [.called], action: "marked as a no-show")
        if policy.noShowReturnsToQueue {
            ticket.state = .waiting
            ticket.calledAtMs = nil
            ticket.recallCount = 0
            switch branch.routingMode {
            case .pooled:
                ticket.queueID = nil
            case .dedicated:
                // Back to its counter, unless that counter has closed meanwhile.
                if let queueID = ticket.queueID, queues[queueID]?.state == .closed {
                    remove(id)
                    if let target = Routing.leastLoadedQueue(for: ticket.serviceID, in: queues.values, waiting: waitingPerQueue) {
                        ticket.queueID = target.id
                        queues[target.id]?.lastAssignedAtMs = nowMs
                    } else {
                        _ = hold(&ticket)
                        return [.ticketNoShow(ticket)]
                    }
                }
            }
            put(ticket)
        } else {
            ticket.state = .noShow
            ticket.finishedAtMs = nowMs
            remove(id)
        }
        return [.ticketNoShow(ticket)]
    }

    /// Sends a ticket to another service's line, to one counter's line, or to the counter a colleague works at,
    /// keeping its issue time so the customer keeps their place.
    public mutating func transfer(_ id: TicketID, to target: TransferTarget, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = try active(id, allowed: [.waiting, .called, .serving, .held], action: "transferred")
        let (fromService, fromQueue) = (ticket.serviceID, ticket.queueID)
        let serviceID = target.serviceID ?? ticket.serviceID
        guard let service = services[serviceID] else { throw .unknownService(serviceID) }
        let counter: Queue?
        switch target {
        case .service:
            counter = nil
        case .queue(let queueID, _):
            guard let queue = queues[queueID] else { throw .unknownQueue(queueID) }
            guard queue.state != .closed else { throw .queueClosed(counter: queue.counter) }
            guard queue.serviceIDs.contains(serviceID) else { throw .queueDoesNotServe(counter: queue.counter, service: service.name) }
            counter = queue
        case .colleague(let staffID, _):
            let waiting = waitingPerQueue
            let theirs = queues.values.filter { $0.operatorIDs.contains(staffID) && $0.state != .closed && $0.serviceIDs.contains(serviceID) }
            guard let queue = theirs.min(by: { (waiting[$0.id] ?? 0, $0.id) < (waiting[$1.id] ?? 0, $1.id) }) else {
                throw .colleagueAtNoCounter(staffID, service: service.name)
            }
            counter = queue
        }
        ticket.serviceID = serviceID
        ticket.state = .waiting
        ticket.calledAtMs = nil
        ticket.startedAtMs = nil
        ticket.recallCount = 0
        ticket.heldReason = nil
        ticket.transferredAtMs = nowMs
        remove(id)
        if let counter {
            ticket.queueID = counter.id
        } else {
            switch branch.routingMode {
            case .dedicated:
                if let queue = Routing.leastLoadedQueue(for: serviceID, in: queues.values, waiting: waitingPerQueue) {
                    ticket.queueID = queue.id
                    queues[queue.id]?.lastAssignedAtMs = nowMs
                } else {
                    ticket.queueID = nil
                    ticket.state = .held
                    ticket.heldReason = "no open counter serves \(service.name) right now"
                }
            case .pooled:
                ticket.queueID = nil
                if !hasOpenQueue(for: serviceID) {
                    ticket.state = .held
                    ticket.heldReason = "no open counter serves \(service.name) right now"
                }
            }
        }
        put(ticket)
        return [.ticketTransferred(ticket, fromService: fromService, fromQueue: fromQueue)]
    }

    /// The customer gave up (from their ticket page).
    public mutating func cancel(_ id: TicketID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        var ticket = try active(id, allowed: [.waiting, .held, .called], action: "cancelled")
        ticket.state = .cancelled
        ticket.finishedAtMs = nowMs
        remove(id)
        return [.ticketCancelled(ticket)]
    }

    /// Opens a queue and places the held tickets it can take.
    public mutating func open(_ queueID: QueueID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        guard var queue = queues[queueID] else { throw .unknownQueue(queueID) }
        queue.state = .open
        queues[queueID] = queue
        var events: [QueueEvent] = [.queueOpened(queue)]
        let held = heldTickets.filter { queue.serviceIDs.contains($0.serviceID) }
        for var ticket in held {
            ticket.state = .waiting
            ticket.heldReason = nil
            if branch.routingMode == .dedicated {
                let target = Routing.leastLoadedQueue(for: ticket.serviceID, in: queues.values, waiting: waitingPerQueue) ?? queue
                ticket.queueID = target.id
                queues[target.id]?.lastAssignedAtMs = nowMs
            }
            put(ticket)
            events.append(.ticketReassigned(ticket, fromQueue: nil))
        }
        return events
    }

    /// Pauses a queue: it takes no new tickets, keeps its waiting ones and may still call them.
    public mutating func pause(_ queueID: QueueID) throws(QueueRuleViolation) -> [QueueEvent] {
        guard var queue = queues[queueID] else { throw .unknownQueue(queueID) }
        queue.state = .paused
        queues[queueID] = queue
        return [.queuePaused(queue)]
    }

    /// Closes a queue and hands every waiting ticket, one by one in call order, to the least-loaded open queue
    /// serving its service; tickets no queue can take are held. Issue times are kept. A ticket being called
    /// or served at the counter stays with it until finished.
    public mutating func close(_ queueID: QueueID, nowMs: Int64) throws(QueueRuleViolation) -> [QueueEvent] {
        guard var queue = queues[queueID] else { throw .unknownQueue(queueID) }
        queue.state = .closed
        queues[queueID] = queue
        var events: [QueueEvent] = []
        var moved: [TicketID] = []
        let waiting: [Ticket] =
            switch branch.routingMode {
            case .dedicated: line(of: queueID)
            case .pooled:
                lines.filter { if case .service = $0.key { true } else { $0.key == .queue(queueID) } }.values.joined().sorted().compactMap { tickets[$0.id] }
            }
        for var ticket in waiting {
            switch branch.routingMode {
            case .dedicated:
                if let target = Routing.leastLoadedQueue(for: ticket.serviceID, in: queues.values, waiting: waitingPerQueue) {
                    ticket.queueID = target.id
                    queues[target.id]?.lastAssignedAtMs = nowMs
                    put(ticket)
                    events.append(.ticketReassigned(ticket, fromQueue: queueID))
                } else {
                    events.append(hold(&ticket))
                }
                moved.append(ticket.id)
            case .pooled:
                // Pooled tickets belong to no counter (those transferred to this one go back to their service's
                // line); only those whose service lost its last open counter are held.
                if ticket.queueID == queueID {
                    ticket.queueID = nil
                    if hasOpenQueue(for: ticket.serviceID) {
                        put(ticket)
                        events.append(.ticketReassigned(ticket, fromQueue: queueID))
                        moved.append(ticket.id)
                        continue
                    }
                }
                if !hasOpenQueue(for: ticket.serviceID) {
                    events.append(hold(&ticket))
                    moved.append(ticket.id)
                }
            }
        }
        return [.queueClosed(queue, reallocated: moved)] + events
    }

    /// After the branch's local midnight: every ticket issued on an earlier local day and still waiting or held
    /// expires (when the policy says so). Safe to run any number of times.
    public mutating func expireWaiting(nowMs: Int64) -> [QueueEvent] {
        guard policy.expireAtMidnight else { return [] }
        let today = LocalDay.of(nowMs, timeZone: branch.timeZone)
        let expiring = tickets.values
            .filter { ($0.state == .waiting || $0.state == .held) && LocalDay.of($0.issuedAtMs, timeZone: branch.timeZone) != today }
            .sorted { $0.id < $1.id }
        return expiring.map { ticket in
            var ticket = ticket
            ticket.state = .expired
            ticket.finishedAtMs = nowMs
            remove(ticket.id)
            return .ticketExpired(ticket)
        }
    }

    private mutating func hold(_ ticket: inout Ticket) -> QueueEvent {
        ticket.queueID = nil
        ticket.state = .held
        ticket.heldReason = "no open counter serves \(services[ticket.serviceID]?.name ?? "this service") right now; you keep your place"
        put(ticket)
        return .ticketHeld(ticket)
    }

    private func active(_ id: TicketID, allowed: Set<TicketState>, action: String) throws(QueueRuleViolation) -> Ticket {
        guard let ticket = tickets[id] else { throw .unknownTicket(id) }
        guard allowed.contains(ticket.state) else {
            throw .invalidTransition(ticket: ticket.number.description, state: ticket.state, action: action)
        }
        return ticket
    }
}

extension Array where Element == CallOrder.Rank {
    /// Where `rank` is or would go in this sorted line (binary search).
    func insertionIndex(of rank: CallOrder.Rank) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < rank { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
