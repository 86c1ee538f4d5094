import Foundation
import SQLKit
import TurnoCore

/// Turns committed ticket events into alerts for the customers who follow those tickets (called, recalled,
/// transferred, moved, held, closed), and tells followers whose turn is near by the branch's settings: after every
/// batch of a branch's events, and every `Notifier.tickMs` for the estimates that move with time alone.
struct TicketAlertPlanner: NotificationPlanner {
    let store: QueueStore
    let followers: FollowerStore

    /// What an alert reads of a ticket event's data (`TicketEventData`).
    struct AlertedTicket: Decodable {
        var id: TicketID
        var branchId: BranchID
        var number: String
        var service: String
        var counter: String?
    }

    private struct BranchOfEvent: Decodable {
        var branchId: BranchID
    }

    func plan(_ events: [StoredEvent], nowMs: Int64, in transaction: Transaction) async throws -> [NewNotification] {
        let sql = transaction.sql
        var alerted: [(StoredEvent, AlertKind, AlertedTicket)] = []
        var touched: Set<BranchID> = []
        for event in events where event.type.hasPrefix("ticket.") || event.type.hasPrefix("queue.") {
            if let branch = try? JSONCoding.decoder.decode(BranchOfEvent.self, from: Data(event.data.utf8)) { touched.insert(branch.branchId) }
            guard let kind = AlertKind.of(eventType: event.type),
                let ticket = try? JSONCoding.decoder.decode(AlertedTicket.self, from: Data(event.data.utf8))
            else { continue }
            alerted.append((event, kind, ticket))
        }
        var notifications: [NewNotification] = []
        var branches: [BranchID: (branch: Branch, settings: BranchAlertSettings)] = [:]
        func branch(_ id: BranchID) async throws -> (branch: Branch, settings: BranchAlertSettings)? {
            if let known = branches[id] { return known }
            guard let branch = try await store.branch(id, sql: sql) else { return nil }
            branches[id] = (branch, try await followers.settings(of: id, sql: sql))
            return branches[id]
        }
        let byTicket =
            alerted.isEmpty
            ? [:] : Dictionary(grouping: try await followers.followers(ofTickets: Array(Set(alerted.map(\.2.id))), sql: sql), by: \.ticketID)
        if !alerted.isEmpty {
            for (event, kind, ticket) in alerted {
                guard let followers = byTicket[ticket.id], let (branch, settings) = try await branch(ticket.branchId) else { continue }
                let values = AlertTexts.Values(number: ticket.number, service: ticket.service, counter: ticket.counter, branch: branch.name)
                for follower in followers where settings.allows(follower.channel) {
                    notifications.append(
                        NewNotification(
                            tenant: event.tenant,
                            channel: follower.channel.notificationChannel,
                            targetID: follower.id,
                            eventSequence: event.sequence,
                            kind: kind.rawValue,
                            ticketID: ticket.id,
                            detail: try JSONCoding.text(values)
                        )
                    )
                }
            }
        }
        // Near turns: at the branches these events changed, or everywhere when time alone moved on. Only the front of
        // each line can be near, and the walk stops at the first ticket that is not: the cost is the front's, however
        // many tickets wait or are followed further back.
        var done: [Int64] = []
        for branchID in try await followers.branchesAwaitingNear(among: events.isEmpty ? nil : Array(touched), sql: sql) {
            guard let (branch, settings) = try await branch(branchID) else { continue }
            let state = try await store.state(of: branchID, organizationID: nil, sql: sql)
            var statuses: [TicketID: TicketStatus] = [:]
            let near = state.fronts { ticket in
                let status = TicketStatus(ticket, in: state)
                statuses[ticket.id] = status
                return TicketAlerts.isNear(ahead: status.ahead, etaS: status.etaS, settings: settings)
            }
            for follower in try await followers.awaitingNear(ofTickets: near.map(\.id), sql: sql) {
                guard let ticket = state.tickets[follower.ticketID], let status = statuses[ticket.id] else { continue }
                done.append(follower.id)
                guard settings.allows(follower.channel) else { continue }
                let values = AlertTexts.Values(
                    number: ticket.number.description,
                    service: state.services[ticket.serviceID]?.name ?? "",
                    ahead: status.ahead,
                    minutes: status.etaS.map { max(1, ($0 + 59) / 60) },
                    branch: branch.name
                )
                notifications.append(
                    NewNotification(
                        tenant: branch.organizationID,
                        channel: follower.channel.notificationChannel,
                        targetID: follower.id,
                        eventSequence: events.last?.sequence,
                        kind: AlertKind.near.rawValue,
                        ticketID: ticket.id,
                        detail: try JSONCoding.text(values)
                    )
                )
            }
        }
        // Followers of a ticket that has been called are past being told it is near.
        done += alerted.flatMap { event in
            event.1 == .called ? (byTicket[event.2.id] ?? []).filter { !$0.nearSent }.map(\.id) : []
        }
        try await followers.markNearSent(done, in: transaction)
        return notifications
    }
}
