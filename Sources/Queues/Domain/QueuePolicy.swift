/// The branch rules that are settings rather than code: priority multipliers, ageing, no-shows, estimates.
public struct QueuePolicy: Sendable, Equatable, Codable {
    /// Multiplies the service's weight for each customer class.
    public var classMultipliers: [CustomerClass: Double]
    /// Priority points a waiting ticket gains per minute: what guarantees nobody waits forever.
    public var ageingPerMinute: Double
    /// After this many recalls a called ticket becomes a no-show by itself; nil: never.
    public var noShowAfterRecalls: Int?
    /// A no-show goes back to waiting (keeping its place) instead of leaving the queue.
    public var noShowReturnsToQueue: Bool
    /// Weight of the newest finished service in a counter's average service time.
    public var serviceTimeSmoothing: Double
    /// At the local midnight, tickets still waiting or held become expired.
    public var expireAtMidnight: Bool
    /// "Almost your turn" when this many people or fewer are ahead.
    public var nearAlertAhead: Int

    public init(
        classMultipliers: [CustomerClass: Double] = [.regular: 1, .senior: 1.5, .priority: 2, .vip: 3],
        ageingPerMinute: Double = 0.5,
        noShowAfterRecalls: Int? = 3,
        noShowReturnsToQueue: Bool = false,
        serviceTimeSmoothing: Double = 0.3,
        expireAtMidnight: Bool = true,
        nearAlertAhead: Int = 2
    ) {
        self.classMultipliers = classMultipliers
        self.ageingPerMinute = ageingPerMinute
        self.noShowAfterRecalls = noShowAfterRecalls
        self.noShowReturnsToQueue = noShowReturnsToQueue
        self.serviceTimeSmoothing = serviceTimeSmoothing
        self.expireAtMidnight = expireAtMidnight
        self.nearAlertAhead = nearAlertAhead
    }

    public static let standard = QueuePolicy()

    func multiplier(_ customerClass: CustomerClass) -> Double {
        classMultipliers[customerClass] ?? 1
    }
}

/// The order in which waiting tickets are called.
public enum CallOrder {
    /// A ticket's effective priority at `nowMs`: (service weight + 1) × class multiplier, plus the ageing bonus
    /// for every minute waited. Higher is called first.
    public static func effectivePriority(of ticket: Ticket, weight: Int, policy: QueuePolicy, nowMs: Int64) -> Double {
        let minutesWaited = Double(max(0, nowMs - ticket.issuedAtMs)) / 60_000
        return Double(weight + 1) * policy.multiplier(ticket.customerClass) + policy.ageingPerMinute * minutesWaited
    }

    /// Where a ticket stands in call order, as a value that does not change while it waits. Every waiting ticket
    /// gains the same ageing bonus per minute, so comparing effective priorities at any moment after both were
    /// issued compares `(weight + 1) × multiplier − ageing × minutes since the epoch at issue`: the order is fixed
    /// at issue and lines can be kept sorted instead of sorted on every call.
    public struct Rank: Sendable, Hashable, Comparable {
        public let priority: Double
        public let issuedAtMs: Int64
        public let id: TicketID

        /// Called earlier: higher priority, then earlier issue time, then lower id (so the order is total).
        public static func < (left: Rank, right: Rank) -> Bool {
            if left.priority != right.priority { return left.priority > right.priority }
            if left.issuedAtMs != right.issuedAtMs { return left.issuedAtMs < right.issuedAtMs }
            return left.id < right.id
        }
    }

    public static func rank(of ticket: Ticket, weight: Int, policy: QueuePolicy) -> Rank {
        let base = Double(weight + 1) * policy.multiplier(ticket.customerClass)
        return Rank(priority: base - policy.ageingPerMinute * Double(ticket.issuedAtMs) / 60_000, issuedAtMs: ticket.issuedAtMs, id: ticket.id)
    }

    /// Waiting tickets in call order.
    public static func sorted(_ tickets: [Ticket], services: [ServiceID: Service], policy: QueuePolicy) -> [Ticket] {
        tickets.map { ($0, rank(of: $0, weight: services[$0.serviceID]?.priorityWeight ?? 0, policy: policy)) }
            .sorted { $0.1 < $1.1 }
            .map(\.0)
    }

    /// How many minutes later than another a ticket must have been issued to stay behind it forever,
    /// whatever their services and classes: the bound that ageing puts on overtaking.
    public static func overtakingWindowMinutes(services: some Collection<Service>, policy: QueuePolicy) -> Double {
        let weights = services.map(\.priorityWeight)
        let multipliers = CustomerClass.allCases.map(policy.multiplier)
        guard let maxWeight = weights.max(), let minWeight = weights.min(), let maxMultiplier = multipliers.max(), let minMultiplier = multipliers.min(),
            policy.ageingPerMinute > 0
        else { return .infinity }
        let spread = Double(maxWeight + 1) * maxMultiplier - Double(minWeight + 1) * minMultiplier
        return spread / policy.ageingPerMinute
    }
}
