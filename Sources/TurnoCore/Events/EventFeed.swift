import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Receives committed events in sequence order.
public protocol EventConsumer: Sendable {
    func consume(_ events: [StoredEvent]) async
}

/// The consumers of a feed; modules add theirs while the server is being built.
final class EventConsumers: Sendable {
    private let list: Mutex<[any EventConsumer]>

    init(_ consumers: [any EventConsumer]) {
        list = Mutex(consumers)
    }

    var all: [any EventConsumer] { list.withLock { $0 } }

    func add(_ consumer: any EventConsumer) {
        list.withLock { $0.append(consumer) }
    }
}

/// Follows the event log of this node's database and hands every new event, in order, to the consumers.
///
/// It is woken after each local commit, by PostgreSQL `NOTIFY` from any node, and once a second as a
/// safety net; each time it reads every event after the last one it has handled. Notifications carry no
/// events, so a lost, late or duplicated notification can never lose, reorder or repeat an event.
public struct EventFeed: Service {
    let storage: Storage
    let consumers: EventConsumers
    let startAfter: Int64
    let logger: Logger
    let pollInterval: Duration

    public init(storage: Storage, consumers: [any EventConsumer], startAfter: Int64, logger: Logger, pollInterval: Duration = .seconds(1)) {
        self.storage = storage
        self.consumers = EventConsumers(consumers)
        self.startAfter = startAfter
        self.logger = logger
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                if let engine = storage.engine as? PostgresEngine {
                    group.addTask { await listen(engine) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: pollInterval)
                        storage.wakeFeed()
                    }
                }
                var last = startAfter
                for await _ in storage.wakeups {
                    last = await catchUp(after: last)
                }
                group.cancelAll()
            }
        }
    }

    private func catchUp(after sequence: Int64) async -> Int64 {
        var last = sequence
        while !Task.isCancelled {
            let batch: [StoredEvent]
            do {
                batch = try await storage.events(after: last, limit: 1_000)
            } catch {
                logger.warning("cannot read new events", metadata: ["error": "\(loggable(error))"])
                return last
            }
            guard let newest = batch.last else { return last }
            for consumer in consumers.all { await consumer.consume(batch) }
            last = newest.sequence
            if batch.count < 1_000 { return last }
        }
        return last
    }

    /// Holds one dedicated connection that `LISTEN`s for commits, reconnecting after any failure.
    private func listen(_ engine: PostgresEngine) async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: engine.location.connectionConfiguration,
                    id: 1,
                    logger: logger
                )
                attempt = 0
                do {
                    try await connection.listen(on: Storage.notificationChannel) { notifications in
                        // Anything committed while we were not listening is picked up now.
                        storage.wakeFeed()
                        for try await _ in notifications {
                            storage.wakeFeed()
                        }
                    }
                } catch {
                    engine.noteUnreachable()
                    if !Task.isCancelled { logger.warning("event listener lost its connection", metadata: ["error": "\(loggable(error))"]) }
                }
                try? await connection.close()
            } catch {
                engine.noteUnreachable()
                if !Task.isCancelled { logger.warning("event listener cannot connect", metadata: ["error": "\(loggable(error))"]) }
            }
            attempt += 1
            try? await Task.sleep(for: .milliseconds(min(5_000, 200 * attempt)))
        }
    }
}
