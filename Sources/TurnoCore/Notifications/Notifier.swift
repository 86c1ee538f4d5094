import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Works out which notifications an event causes (a module's customer alerts, the organization's webhooks).
public protocol NotificationPlanner: Sendable {
    /// The notifications `events` cause, recorded in `transaction` with the planner's new place in the log. Called
    /// with no events every `Notifier.tickMs` too, for alerts that come with time rather than with a change.
    func plan(_ events: [StoredEvent], nowMs: Int64, in transaction: Transaction) async throws -> [NewNotification]
}

/// Sends a channel's notifications: webhooks over HTTP, pushes, Telegram messages, e-mails.
public protocol NotificationSender: Sendable {
    /// Sends each notification once and says how each went, by id. It never throws: a failure is an outcome.
    func send(_ notifications: [PendingNotification], nowMs: Int64) async -> [Int64: NotificationOutcome]
}

extension NotificationSender {
    /// Sends each notification with `attempt`, `limit` at a time, and gathers the outcomes by id.
    public func each(
        _ notifications: [PendingNotification],
        limit: Int,
        _ attempt: @escaping @Sendable (PendingNotification) async -> NotificationOutcome
    ) async -> [Int64: NotificationOutcome] {
        var outcomes: [Int64: NotificationOutcome] = [:]
        await withTaskGroup(of: (Int64, NotificationOutcome).self) { group in
            var inFlight = 0
            for notification in notifications {
                if inFlight == limit, let (id, outcome) = await group.next() {
                    outcomes[id] = outcome
                    inFlight -= 1
                }
                group.addTask { (notification.id, await attempt(notification)) }
                inFlight += 1
            }
            for await (id, outcome) in group { outcomes[id] = outcome }
        }
        return outcomes
    }
}

/// The transactional outbox's delivery side. Changes record events; the planner turns committed events into
/// notifications, in the same transaction as its place in the log (so each event is planned exactly once, even across
/// a crash), and the sender sends what is due, with retries. Both run on the leading node only.
///
/// A node that dies between sending and recording that it sent leaves the notification pending: it goes out again
/// after its lease. Receivers see the same notification id twice then, and webhook receivers are told to drop repeats
/// by it: delivery is at least once, never silently lost.
public final class Notifier: Sendable, EventConsumer {
    public let store: NotificationStore
    let logger: Logger
    private let planners = Mutex<[any NotificationPlanner]>([])
    private let senders = Mutex<[NotificationChannel: any NotificationSender]>([:])
    /// Set when an event commits, so that the idle loop goes round at once.
    private let woken = Atomic<Bool>(false)
    private let lastTickMs = Mutex<Int64>(0)

    /// Events planned per transaction.
    static let planBatch = 500
    /// Notifications claimed by one sending task; each claim is its own transaction, so two tasks never share one.
    static let sendBatch = 500
    /// Sending tasks at once.
    static let parallelSends = 4
    /// How long a claimed notification is left to its sender before it is tried again.
    static let leaseMs: Int64 = 120_000
    /// How often planners are asked about alerts that come with time.
    static let tickMs: Int64 = 15_000
    /// Webhook requests in flight at once, and connections to one host.
    static let connectionsPerHost = 128
    static let lockKey: Int64 = 0x7475_726E_6F00_0004

    init(storage: Storage, logger: Logger) {
        store = NotificationStore(storage: storage)
        self.logger = logger
    }

    public func addPlanner(_ planner: any NotificationPlanner) {
        planners.withLock { $0.append(planner) }
    }

    public func setSender(_ sender: any NotificationSender, for channel: NotificationChannel) {
        senders.withLock { $0[channel] = sender }
    }

    /// Whether `channel` can send here (push, Telegram and e-mail need settings).
    public func canSend(_ channel: NotificationChannel) -> Bool {
        senders.withLock { $0[channel] != nil }
    }

    /// Committed events wake the loop at once instead of at its next poll.
    public func consume(_ events: [StoredEvent]) async {
        woken.store(true, ordering: .relaxed)
    }

    /// One round: plans a batch of events and sends due notifications, `parallelSends` batches at once (while one
    /// batch's outcomes are written, the others are on the wire); false when neither had work.
    @discardableResult
    func round() async throws -> Bool {
        let planned = try await planBatch()
        let sent = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<Self.parallelSends { group.addTask { try await self.sendDue() } }
            var sentAny = false
            for try await sent in group { sentAny = sentAny || sent }
            return sentAny
        }
        return planned || sent
    }

    /// Plans the next events after the planner's place, in one transaction with the new place.
    func planBatch() async throws -> Bool {
        let storage = store.storage
        let head = try await storage.latestSequence()
        let nowMs = storage.clock.nowMilliseconds()
        let ticking = lastTickMs.withLock { last in
            guard nowMs - last >= Self.tickMs || nowMs < last else { return false }
            last = nowMs
            return true
        }
        let planners = self.planners.withLock { $0 }
        return try await storage.write { transaction in
            let last = try await store.lockProgress(in: transaction)
            guard last < head || ticking else { return false }
            let events = last < head ? try await store.events(after: last, upTo: head, limit: Self.planBatch, sql: transaction.sql) : []
            var notifications: [NewNotification] = []
            for planner in planners {
                notifications += try await planner.plan(events, nowMs: transaction.timeMs, in: transaction)
            }
            try await store.insert(notifications, in: transaction)
            // A full batch stops at its last event; a shorter one has read everything up to `head`.
            let reached = events.count == Self.planBatch ? events.last!.sequence : head
            if reached > last { try await store.setProgress(reached, in: transaction) }
            return !events.isEmpty
        }
    }

    /// Sends a batch of due notifications, each channel's at once, and records how each went.
    func sendDue() async throws -> Bool {
        // One time for the whole attempt: the next one is counted from when this one began, however long it took.
        let nowMs = store.storage.clock.nowMilliseconds()
        let due = try await store.claimDue(nowMs: nowMs, limit: Self.sendBatch, leaseMs: Self.leaseMs)
        guard !due.isEmpty else { return false }
        let senders = self.senders.withLock { $0 }
        let byChannel = Dictionary(grouping: due, by: \.channel)
        let outcomes = await withTaskGroup(of: [Int64: NotificationOutcome].self) { group in
            for (channel, notifications) in byChannel {
                group.addTask {
                    guard let sender = senders[channel] else {
                        return Dictionary(
                            uniqueKeysWithValues: notifications.map { ($0.id, .cancelled(reason: "\(channel.rawValue) is not set up on this server")) }
                        )
                    }
                    return await sender.send(notifications, nowMs: nowMs)
                }
            }
            var all: [Int64: NotificationOutcome] = [:]
            for await outcomes in group { all.merge(outcomes) { first, _ in first } }
            return all
        }
        let results = due.map { ($0, outcomes[$0.id] ?? .retry(error: "the sender gave no answer", code: nil, latencyMs: nil)) }
        try await store.record(results, nowMs: nowMs)
        return true
    }

    /// The loop of the leading node: a round whenever an event commits, and at least four times a second.
    func lead() async {
        while !Task.isCancelled {
            do {
                if try await round() { continue }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("sending notifications failed; will retry", metadata: ["error": "\(loggable(error))"])
                try? await Task.sleep(for: .seconds(1))
            }
            await waitForWake(upTo: .milliseconds(250))
        }
    }

    private func waitForWake(upTo timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        // Polling a flag every 10 ms costs nothing measurable, and keeps a call's alerts within 10 ms of its commit.
        while ContinuousClock.now < deadline, !woken.exchange(false, ordering: .relaxed) {
            guard (try? await Task.sleep(for: .milliseconds(10))) != nil else { return }
        }
    }
}

/// Runs the notifier's loop on the leading node (one at a time in a cluster), until the server stops.
struct NotifierService: ServiceLifecycle.Service {
    let notifier: Notifier
    let logger: Logger

    func run() async throws {
        let leadership = Leadership(storage: notifier.store.storage, key: Notifier.lockKey, logger: logger)
        await cancelWhenGracefulShutdown {
            await leadership.run { await notifier.lead() }
        }
    }
}
