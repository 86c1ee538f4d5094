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
    /// The log's sequence this node has planned up to (-1: not known yet).
    private let plannedUpTo = Atomic<Int64>(-1)
    /// The clock's time before which no pending notification is due, as the last empty claim found (0: look now).
    private let nextDueMs = Atomic<Int64>(0)
    /// When this node last read the log's head.
    private let lastPlanCheck = Mutex<ContinuousClock.Instant>(.now)
    /// Whether the last batch of events was full, so that more wait.
    private let backlog = Atomic<Bool>(false)
    /// When this node last looked for due notifications.
    private let lastDueCheck = Mutex<ContinuousClock.Instant>(.now)
    private let lastTickMs = Mutex<Int64>(0)

    /// Events planned per transaction.
    static let planBatch = 500
    /// Notifications claimed by one sending task; each claim is its own transaction, so two tasks never share one.
    static let sendBatch = 500
    /// Sending tasks at once.
    static let parallelSends = 4
    /// How long a claimed notification is left to its sender before it is tried again.
    static let leaseMs: Int64 = 120_000
    /// How often the leader looks for due notifications that nobody told it of (recorded on another node).
    static let dueCheckInterval: Duration = .seconds(5)
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

    /// Says that notifications were recorded outside the planner (a follower's confirmation, a webhook sent again), so
    /// the next round looks for due ones at once. On another node nobody tells: the loop looks every second anyway.
    public func notificationsRecorded() {
        nextDueMs.store(0, ordering: .relaxed)
    }

    /// One round: plans a batch of events and sends what is due, and says which it did. A full batch of due
    /// notifications brings `parallelSends` batches at once (while one batch's outcomes are written, the others are
    /// on the wire). A round touches the database only when it may find something: events after the planner's place,
    /// notifications that may be due, and otherwise once a second.
    func round(woken: Bool) async throws -> (planned: Bool, sent: Bool) {
        let planned = try await planBatch(eventsMayWait: woken || backlog.load(ordering: .relaxed))
        let nowMs = store.storage.clock.nowMilliseconds()
        let lookedAgo = lastDueCheck.withLock { ContinuousClock.now - $0 }
        guard nowMs >= nextDueMs.load(ordering: .relaxed) || lookedAgo >= Self.dueCheckInterval else { return (planned, false) }
        lastDueCheck.withLock { $0 = .now }
        let claimed = try await sendDue()
        guard claimed == Self.sendBatch else { return (planned, claimed > 0) }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 1..<Self.parallelSends { group.addTask { try await self.sendDue() } }
            try await group.waitForAll()
        }
        return (planned, true)
    }

    /// Plans the next events after the planner's place, in one transaction with the new place. Unless events may be
    /// waiting (an event committed since the last round, or the last batch was full), time-driven alerts are due, or a
    /// second has passed, it does not touch the database.
    func planBatch(eventsMayWait: Bool) async throws -> Bool {
        let storage = store.storage
        let nowMs = storage.clock.nowMilliseconds()
        let ticking = lastTickMs.withLock { last in
            guard nowMs - last >= Self.tickMs || nowMs < last else { return false }
            last = nowMs
            return true
        }
        // Besides the wake-ups, a look at the log's head every second, in case one was missed.
        let lookedAgo = lastPlanCheck.withLock { ContinuousClock.now - $0 }
        guard eventsMayWait || ticking || lookedAgo >= .seconds(1) else { return false }
        lastPlanCheck.withLock { $0 = .now }
        let head = try await storage.latestSequence()
        // Nothing new since this node last planned, and no time-driven alerts to look for: no transaction.
        guard head > plannedUpTo.load(ordering: .relaxed) || ticking else { return false }
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
            let reached = events.count == Self.planBatch ? events.last!.sequence : max(head, last)
            if reached > last { try await store.setProgress(reached, in: transaction) }
            plannedUpTo.store(reached, ordering: .relaxed)
            backlog.store(events.count == Self.planBatch, ordering: .relaxed)
            if !notifications.isEmpty { nextDueMs.store(0, ordering: .relaxed) }
            return !events.isEmpty
        }
    }

    /// Sends a batch of due notifications, each channel's at once, and records how each went; how many it sent.
    @discardableResult
    func sendDue() async throws -> Int {
        // One time for the whole attempt: the next one is counted from when this one began, however long it took.
        let nowMs = store.storage.clock.nowMilliseconds()
        let (due, nextDue) = try await store.claimDue(nowMs: nowMs, limit: Self.sendBatch, leaseMs: Self.leaseMs)
        guard !due.isEmpty else {
            nextDueMs.store(nextDue ?? .max, ordering: .relaxed)
            return 0
        }
        // Their outcomes may bring retries: look again next round.
        nextDueMs.store(0, ordering: .relaxed)
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
        return due.count
    }

    /// The loop of the leading node: a round whenever an event commits, and at least four times a second.
    func lead() async {
        // The first round looks at the log whatever happened before this node led.
        var woke = true
        while !Task.isCancelled {
            do {
                let (planned, sent) = try await round(woken: woke)
                if sent || planned {
                    // Notifications waiting to go: straight on. After planning, a pause gathers a busy moment's events
                    // into the next round: under load the notifier costs a few statements per pause, not per event.
                    if !sent { try? await Task.sleep(for: .milliseconds(100)) }
                    woke = woken.exchange(false, ordering: .relaxed)
                    continue
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("sending notifications failed; will retry", metadata: ["error": "\(loggable(error))"])
                try? await Task.sleep(for: .seconds(1))
            }
            woke = await waitForWake(upTo: .milliseconds(250))
        }
    }

    /// True when an event committed before `timeout` passed.
    private func waitForWake(upTo timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        // Polling a flag every 10 ms costs nothing measurable, and keeps a call's alerts within 10 ms of its commit.
        while ContinuousClock.now < deadline {
            if woken.exchange(false, ordering: .relaxed) { return true }
            guard (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
        return false
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
