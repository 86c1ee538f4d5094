import Foundation
import Logging
import Synchronization
import TurnoCore

/// Keeps every followed ticket page current: after each batch of queue events it pushes `ticket.position`
/// (position, people ahead, now serving, ETA) to each `ticket:{token}` that a client of this node follows and
/// whose answer changed — not only when the customer's own ticket changed. Tickets nobody follows cost nothing.
final class TicketPositions: EventConsumer, Sendable {
    let store: QueueStore
    let hub: LiveHub
    let logger: Logger

    /// A followed ticket: where it is (nil when the token names no ticket) and what its page was last told.
    struct Followed: Sendable {
        var ticket: (branchID: BranchID, id: TicketID)?
        var lastPushed: TicketStatus?
    }

    private let followed = Mutex<[String: Followed]>([:])

    /// The one field of a ticket or queue event this projection needs.
    private struct BranchOfEvent: Decodable {
        let branchId: BranchID
    }

    init(store: QueueStore, hub: LiveHub, logger: Logger) {
        self.store = store
        self.hub = hub
        self.logger = logger
    }

    func consume(_ events: [StoredEvent]) async {
        var branches: [BranchID: StoredEvent] = [:]
        for event in events where event.type.hasPrefix("ticket.") || event.type.hasPrefix("queue.") {
            // The branch's topic carries its public id; the data carries the id the store knows it by.
            if let branch = try? JSONCoding.decoder.decode(BranchOfEvent.self, from: Data(event.data.utf8)) { branches[branch.branchId] = event }
        }
        guard !branches.isEmpty else { return }
        do {
            try await updateFollowedTokens()
        } catch {
            logger.warning("cannot look up followed tickets", metadata: ["error": "\(loggable(error))"])
        }
        for (branchID, event) in branches {
            do {
                try await push(branchID: branchID, after: event)
            } catch {
                logger.warning("cannot refresh ticket positions", metadata: ["branch": "\(branchID)", "error": "\(loggable(error))"])
            }
        }
    }

    /// Forgets tokens nobody follows any more and finds the tickets of newly followed ones (once per token).
    private func updateFollowedTokens() async throws {
        let tokens = Set(await hub.followedTopics(prefix: "ticket:").map { String($0.dropFirst("ticket:".count)) })
        let unknown = followed.withLock { followed in
            followed = followed.filter { tokens.contains($0.key) }
            return tokens.filter { followed[$0] == nil }
        }
        for token in unknown {
            let ticket = try await store.ticket(token: token)
            followed.withLock { $0[token] = Followed(ticket: ticket.map { ($0.branchID, $0.id) }) }
        }
    }

    /// Pushes the positions that changed with `event`, the branch's latest: the push carries its sequence and time.
    private func push(branchID: BranchID, after event: StoredEvent) async throws {
        guard followed.withLock({ $0.values.contains { $0.ticket?.branchID == branchID } }) else { return }
        let state = try await store.state(of: branchID, organizationID: nil)
        let changed = followed.withLock { followed in
            var changed: [(String, TicketStatus)] = []
            for (token, entry) in followed where entry.ticket?.branchID == branchID {
                // A ticket that left the state (served, cancelled…) was told so by its own event.
                guard let id = entry.ticket?.id, let ticket = state.tickets[id] else { continue }
                let status = TicketStatus(ticket, in: state)
                if status != entry.lastPushed {
                    followed[token]?.lastPushed = status
                    changed.append((token, status))
                }
            }
            return changed
        }
        for (token, status) in changed {
            let topic = "ticket:\(token)"
            await hub.push(try .pushed(id: event.sequence, type: "ticket.position", topic: topic, timeMs: event.timeMs, data: status), to: topic)
        }
    }
}
