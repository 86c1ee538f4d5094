import Foundation
import TurnoCore

/// Customers ask to be told about their ticket (by push, Telegram or e-mail) and stop; admins set each branch's
/// alerts. Each change is one transaction with its audit entry; a new follower's confirmation is recorded in the
/// same transaction, and sent from the outbox.
struct AlertCommands: Sendable {
    let store: QueueStore
    let followers: FollowerStore
    /// Which channels this server can send on.
    let notifier: Notifier

    /// How a customer asks to be told.
    enum Address: Sendable {
        case push(PushSubscription)
        case telegram(chatID: Int64)
        case email(String)

        var channel: FollowChannel {
            switch self {
            case .push: .push
            case .telegram: .telegram
            case .email: .email
            }
        }
    }

    func follow(_ ticket: Ticket, at address: Address, language: String, origin: String, clientAddress: String) async throws -> TicketFollower {
        let channel = address.channel
        guard notifier.canSend(channel.notificationChannel) else { throw AlertRuleViolation.channelUnavailable(channel) }
        let stored: String
        switch address {
        case .push(let subscription):
            do {
                _ = try subscription.validated()
            } catch {
                throw AlertRuleViolation.invalidSubscription(error.description)
            }
            stored = try JSONCoding.text(subscription)
        case .telegram(let chatID): stored = String(chatID)
        case .email(let text): stored = try TicketAlerts.validEmail(text)
        }
        guard let branch = try await store.branch(ticket.branchID) else { throw QueueRuleViolation.unknownBranch(ticket.branchID) }
        defer { notifier.notificationsRecorded() }
        return try await store.storage.write { transaction in
            let settings = try await followers.settings(of: branch.id, sql: transaction.sql)
            guard settings.allows(channel) else { throw AlertRuleViolation.channelOff(channel) }
            guard let current = try await store.ticket(ticket.id, sql: transaction.sql), current.state == .waiting || current.state == .called else {
                throw AlertRuleViolation.ticketNotWaiting
            }
            let existing = try await followers.followers(ofTicket: ticket.id, sql: transaction.sql)
            // The same address again (a page reloaded, a second /start) is the same follower.
            if let same = existing.first(where: { $0.channel == channel && $0.address == stored }) { return same }
            guard existing.count < 10 else { throw AlertRuleViolation.tooManyFollowers }
            var follower = TicketFollower(
                id: 0,
                ticketID: ticket.id,
                branchID: branch.id,
                channel: channel,
                address: stored,
                language: AlertTexts.languages.contains(language) ? language : branch.language,
                origin: origin,
                nearSent: false,
                createdAtMs: transaction.timeMs
            )
            follower.id = try await followers.insert(follower, in: transaction)
            try await notifier.store.insert(
                [
                    NewNotification(
                        tenant: branch.organizationID,
                        channel: channel.notificationChannel,
                        targetID: follower.id,
                        eventSequence: nil,
                        kind: AlertKind.following.rawValue,
                        ticketID: ticket.id
                    )
                ],
                in: transaction
            )
            try await Audit.record(
                in: transaction,
                organizationID: branch.organizationID,
                actor: "customer",
                action: "ticket.followed",
                target: "ticket:\(ticket.id)",
                detail: ["channel": channel.rawValue, "number": ticket.number.description],
                address: clientAddress
            )
            return follower
        }
    }

    func unfollow(_ ticket: Ticket, followerID: Int64, clientAddress: String) async throws {
        guard let branch = try await store.branch(ticket.branchID) else { throw QueueRuleViolation.unknownBranch(ticket.branchID) }
        try await store.storage.write { transaction in
            guard let follower = try await followers.followers(ofTicket: ticket.id, sql: transaction.sql).first(where: { $0.id == followerID }) else {
                throw AlertRuleViolation.unknownFollower
            }
            try await followers.delete(follower.id, in: transaction)
            try await notifier.store.cancelPending(
                channel: follower.channel.notificationChannel,
                targetID: follower.id,
                reason: "the customer stopped following",
                in: transaction
            )
            try await Audit.record(
                in: transaction,
                organizationID: branch.organizationID,
                actor: "customer",
                action: "ticket.unfollowed",
                target: "ticket:\(ticket.id)",
                detail: ["channel": follower.channel.rawValue],
                address: clientAddress
            )
        }
    }

    func setSettings(_ settings: BranchAlertSettings, of branchID: BranchID, by principal: Principal, address: String) async throws -> BranchAlertSettings {
        let settings = try TicketAlerts.validated(settings)
        return try await store.storage.write { transaction in
            guard let branch = try await store.branch(branchID, sql: transaction.sql), branch.organizationID == principal.organizationID,
                principal.canAccess(branch: branchID)
            else { throw QueueRuleViolation.unknownBranch(branchID) }
            try await followers.setSettings(settings, of: branchID, in: transaction)
            try await Audit.record(
                in: transaction,
                organizationID: principal.organizationID,
                actor: principal.auditName,
                action: "branch.alerts_changed",
                target: "branch:\(branchID)",
                detail: [
                    "near_ahead": settings.nearAhead.map(String.init) ?? "off",
                    "near_minutes": settings.nearMinutes.map(String.init) ?? "off",
                    "channels": FollowChannel.allCases.filter(settings.allows).map(\.rawValue).joined(separator: " "),
                ],
                address: address
            )
            return settings
        }
    }
}
