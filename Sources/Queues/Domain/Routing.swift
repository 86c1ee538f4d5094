import Foundation

/// Which counter gets a ticket.
public enum Routing {
    /// The open queue serving `service` with the fewest waiting tickets; ties go to the queue that received a
    /// ticket least recently (never first), then to the lowest counter. Nil when no open queue serves it.
    public static func leastLoadedQueue(for service: ServiceID, in queues: some Collection<Queue>, waiting: [QueueID: Int]) -> Queue? {
        queues
            .filter { $0.acceptsTickets(for: service) }
            .min { left, right in
                let leftLoad = waiting[left.id] ?? 0
                let rightLoad = waiting[right.id] ?? 0
                if leftLoad != rightLoad { return leftLoad < rightLoad }
                switch (left.lastAssignedAtMs, right.lastAssignedAtMs) {
                case (nil, .some): return true
                case (.some, nil): return false
                case (.some(let l), .some(let r)) where l != r: return l < r
                default: break
                }
                return counterPrecedes(left, right)
            }
    }

    /// Counters compare as numbers when both are numbers ("2" before "10"), otherwise as text; ids break ties.
    static func counterPrecedes(_ left: Queue, _ right: Queue) -> Bool {
        if let l = Int(left.counter), let r = Int(right.counter), l != r { return l < r }
        if left.counter != right.counter { return left.counter.localizedStandardCompare(right.counter) == .orderedAscending }
        return left.id < right.id
    }
}
