import Logging
import SQLKit
import ServiceLifecycle
import TurnoCore

/// Once a minute, on every node, opens the counters whose shift has just started and closes those whose last shift
/// has just ended (waiting tickets move as when staff close a counter), at the branches whose counters follow their
/// shifts. Each branch's turn is one command under the branch lock that moves its progress on, so running on
/// several nodes does nothing twice; a counter staff opened or closed by hand between two shift boundaries stays so.
struct ShiftKeeper: ServiceLifecycle.Service {
    let store: QueueStore
    let storage: Storage
    let logger: Logger
    let interval: Duration

    /// How far back a node that was down catches up: a boundary older than that no longer matters.
    static let catchUpMs: Int64 = 86_400_000

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await keepShifts()
                try? await storage.clock.sleep(for: interval)
            }
        }
    }

    func keepShifts() async {
        let branches: [Branch]
        do {
            branches = try await store.branchesFollowingShifts()
        } catch {
            logger.warning("opening and closing counters by their shifts failed; will retry", metadata: ["error": "\(loggable(error))"])
            return
        }
        // Each branch on its own: one that fails does not hold the others up.
        for branch in branches {
            do {
                try await keepShifts(of: branch)
            } catch {
                logger.warning(
                    "opening and closing counters by their shifts failed; will retry",
                    metadata: ["branch": "\(branch.id)", "error": "\(loggable(error))"]
                )
            }
        }
    }

    func keepShifts(of branch: Branch) async throws {
        let now = storage.clock.nowMilliseconds()
        let (since, found) = try await storage.read { sql in
            let since = max(try await store.shiftProgress(of: branch.id, sql: sql) ?? now, now - Self.catchUpMs)
            let found = try await shifts(of: branch, since: since, now: now, sql: sql).contains {
                (since < $0.startMs && $0.startMs <= now) || (since < $0.endMs && $0.endMs <= now)
            }
            return (since, found)
        }
        guard found else {
            // Most minutes no shift starts or ends: the progress moves on without locking the branch (unless another
            // node moved it meanwhile), so that a shift added later to a past hour is not taken for one just ended.
            if since < now { try await store.advanceShiftProgress(of: branch.id, from: since, to: now) }
            return
        }
        let (events, _) = try await store.perform(on: branch.id, organizationID: branch.organizationID, by: nil) { state, transaction in
            try await apply(to: &state, transaction: transaction)
        }
        let changed = events.filter { if case .queueOpened = $0 { true } else if case .queueClosed = $0 { true } else { false } }
        if !changed.isEmpty {
            logger.info("counters followed their shifts", metadata: ["branch": "\(branch.id)", "changes": "\(changed.count)"])
        }
    }

    /// The shifts that may start or end between `since` and `now` (from the day before, for shifts under way at midnight).
    private func shifts(of branch: Branch, since: Int64, now: Int64, sql: any SQLDatabase) async throws -> [Shift] {
        let first = LocalDate(ofMilliseconds: since, timeZone: branch.timeZone).adding(days: -1)
        let last = LocalDate(ofMilliseconds: now, timeZone: branch.timeZone)
        return try await store.roster(of: branch.id, sql: sql).shifts(from: first, through: last, hours: branch.openingHours, timeZone: branch.timeZone)
    }

    /// The shift boundaries between the branch's progress and now: counters whose shift started open, counters whose
    /// last shift ended close.
    func apply(to state: inout BranchState, transaction: Transaction) async throws -> [QueueEvent] {
        let now = transaction.timeMs
        let branch = state.branch
        guard branch.countersFollowShifts else { return [] }
        let since = max(try await store.shiftProgress(of: branch.id, sql: transaction.sql) ?? now, now - Self.catchUpMs)
        // Another node, whose clock read later, went first: what it applied is not applied again, nor its progress undone.
        guard since < now else { return [] }
        try await store.setShiftProgress(of: branch.id, to: now, in: transaction)
        let shifts = try await shifts(of: branch, since: since, now: now, sql: transaction.sql)
        var events: [QueueEvent] = []
        let toOpen = Set(shifts.filter { since < $0.startMs && $0.startMs <= now && $0.covers(now) }.map(\.queueID))
        let toClose = Set(shifts.filter { since < $0.endMs && $0.endMs <= now }.map(\.queueID)).filter { queue in
            !shifts.contains { $0.queueID == queue && $0.covers(now) }
        }
        for queueID in toOpen.sorted() where state.queues[queueID].map({ $0.state != .open }) == true {
            let opened = try state.open(queueID, nowMs: now)
            events += opened
            try await audit("queue.opened", queueID, moved: opened.count - 1, branch: branch, in: transaction)
        }
        for queueID in toClose.sorted() where state.queues[queueID].map({ $0.state != .closed }) == true {
            let moved = try state.close(queueID, nowMs: now)
            events += moved
            try await audit("queue.closed", queueID, moved: moved.count - 1, branch: branch, in: transaction)
        }
        return events
    }

    private func audit(_ action: String, _ queueID: QueueID, moved: Int, branch: Branch, in transaction: Transaction) async throws {
        try await Audit.record(
            in: transaction,
            organizationID: branch.organizationID,
            actor: "shift schedule",
            action: action,
            target: "queue:\(queueID)",
            detail: ["moved": String(max(0, moved))],
            address: "server"
        )
    }
}
