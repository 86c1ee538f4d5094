import Foundation
import Logging
import Synchronization
import TurnoCore

/// Keeps every customer's ticket page current: after each batch of queue events it reloads the affected
/// branches and pushes `ticket.position` (position, people ahead, now serving, ETA) to each `ticket:{token}`
/// whose answer changed — not only when the customer's own ticket changed.
final class TicketPositions: EventConsumer, Sendable {
    let store: QueueStore
    let hub: LiveHub
    let logger: Logger
    /// The last status pushed per token, so unchanged tickets are not pushed again.
    private let lastPushed = Mutex<[String: TicketStatus]>([:])

    init(store: QueueStore, hub: LiveHub, logger: Logger) {
        self.store = store
        self.hub = hub
        self.logger = logger
    }

    func consume(_ events: [StoredEvent]) async {
        var branches: [BranchID: Int64] = [:]
        for event in events where event.type.hasPrefix("ticket.") || event.type.hasPrefix("queue.") {
            for topic in event.topics where topic.hasPrefix("branch:") {
                if let id = BranchID(topic.dropFirst("branch:".count)) { branches[id] = event.sequence }
            }
        }
        for (branchID, sequence) in branches {
            do {
                try await push(branchID: branchID, sequence: sequence)
            } catch {
                logger.warning("cannot refresh ticket positions", metadata: ["branch": "\(branchID)", "error": "\(error)"])
            }
        }
    }

    private func push(branchID: BranchID, sequence: Int64) async throws {
        let state = try await store.state(of: branchID, organizationID: nil)
        let now = WallClock.nowMilliseconds()
        var changed: [(String, TicketStatus)] = []
        let active = Set(state.tickets.values.map(\.token))
        let context = TicketStatus.Context(state, nowMs: now)
        lastPushed.withLock { pushed in
            for ticket in state.tickets.values {
                let status = TicketStatus(ticket, in: state, nowMs: now, context: context)
                let previous = pushed[ticket.token]
                if previous == nil || previous!.position != status.position || previous!.nowServing != status.nowServing
                    || previous!.etaS != status.etaS || previous!.state != status.state || previous!.counter != status.counter {
                    pushed[ticket.token] = status
                    changed.append((ticket.token, status))
                }
            }
            // Tickets of this branch that left (served, cancelled…) need no more pushes.
            for token in pushed.keys where !active.contains(token) && pushed[token]?.branchId == branchID {
                pushed[token] = nil
            }
        }
        for (token, status) in changed {
            let topic = "ticket:\(token)"
            let data = String(decoding: try JSONCoding.encoder.encode(status), as: UTF8.self)
            let message = LiveMessage(id: sequence, json: #"{"id":\#(sequence),"type":"ticket.position","topic":"\#(topic)","version":0,"data":\#(data)}"#)
            await hub.push(message, to: topic)
        }
    }
}
