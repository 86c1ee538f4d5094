import Logging
import SQLKit
import ServiceLifecycle
import TurnoCore

/// Once a minute, on every node, expires the tickets each branch left waiting before its local midnight, and erases
/// the customers' details that organizations keep no longer (see `RetentionCommands`).
/// Numbering needs nothing: a ticket's number counts within its local day. Running on several nodes at once is
/// harmless, because each branch's expiry is one command under the branch lock and does nothing twice.
struct DailyRollover: ServiceLifecycle.Service {
    let store: QueueStore
    let storage: Storage
    let logger: Logger
    let retention: RetentionCommands
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await rollOver()
                await eraseExpiredDetails()
                try? await storage.clock.sleep(for: interval)
            }
        }
    }

    func eraseExpiredDetails() async {
        do {
            let erased = try await retention.sweep()
            if erased > 0 { logger.info("erased customers' details past their retention", metadata: ["tickets": "\(erased)"]) }
        } catch {
            logger.warning("erasing customers' details failed; will retry", metadata: ["error": "\(loggable(error))"])
        }
    }

    func rollOver() async {
        do {
            let branches = try await storage.read { sql in
                try await sql.raw(
                    """
                    SELECT DISTINCT branch_id FROM tickets WHERE state IN ('waiting', 'held')
                    """
                ).all().map { try $0.decode(column: "branch_id", as: Int64.self) }
            }
            for branch in branches {
                let (events, _) = try await store.perform(on: branch, organizationID: nil, by: nil) { state, transaction in
                    state.expireWaiting(nowMs: transaction.timeMs)
                }
                if !events.isEmpty {
                    logger.info("expired tickets left from an earlier day", metadata: ["branch": "\(branch)", "count": "\(events.count)"])
                }
            }
        } catch {
            logger.warning("daily roll-over failed; will retry", metadata: ["error": "\(loggable(error))"])
        }
    }
}
