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

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    init(store: QueueStore, hub: LiveHub, logger: Logger) {
        self.store = store
        self.hub = hub
        self.logger = logger
    }

    func consume(_ events: [StoredEvent]) async {
        var branches: [BranchID: Int64] = [:]
        for event in events where event.type.hasPrefix("ticket.") || event.type.hasPrefix("queue.") {
            // The branch's topic carries its public id; the data carries the id the store knows it by.
            if let branch = try? Self.decoder.decode(BranchOfEvent.self, from: Data(event.data.utf8)) { branches[branch.branchId] = event.sequence }
        }
        guard !branches.isEmpty else { return }
        do {
            try await updateFollowedTokens()
        } catch {
            logger.warning("cannot look up followed tickets", metadata: ["error": "\(loggable(error))"])
        }
        for (branchID, sequence) in branches {
            do {
                try await push(branchID: branchID, sequence: sequence)
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

    private func push(branchID: BranchID, sequence: Int64) async throws {
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
            let data = String(decoding: try JSONCoding.encoder.encode(status), as: UTF8.self)
            let message = LiveMessage(id: sequence, json: #"{"id":\#(sequence),"type":"ticket.position","topic":"\#(topic)","version":0,"data":\#(data)}"#)
            await hub.push(message, to: topic)
        }
    }
}
