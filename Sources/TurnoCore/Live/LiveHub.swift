import DequeModule
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Fans committed events out to the live clients of this node, by topic.
///
/// It remembers the most recent events (a bounded window) so that a client reconnecting with the id
/// of the last message it saw gets exactly what it missed; a client that missed more than the window
/// gets a `resync` message and reloads the full state. Each client has a bounded buffer: one that
/// cannot keep up is disconnected with a reason rather than letting memory grow.
public actor LiveHub: EventConsumer, Service {
    private var subscriptions: [Int: LiveSubscription] = [:]
    private var subscribersByTopic: [String: Set<Int>] = [:]
    private var recent: Deque<StoredEvent> = []
    private let replayCapacity: Int
    private let clientBuffer: Int
    /// Every event up to this sequence has been seen by this hub.
    private var latest: Int64
    /// Every event after this sequence is in `recent`, so positions from here on can be replayed.
    private var knownAfter: Int64 = 0
    private var nextID = 0
    private var isShutDown = false
    private let connections = Gauge(label: "turno_live_connections")
    private let logger: Logger

    public init(replayCapacity: Int, clientBuffer: Int, logger: Logger) {
        self.replayCapacity = replayCapacity
        self.clientBuffer = clientBuffer
        self.latest = 0
        self.logger = logger
    }

    /// Starts from the events already in the log, so clients can resume across a restart:
    /// `events` must be every event after `knownAfter`, up to `latest`.
    public func seed(recent events: [StoredEvent], knownAfter: Int64, latest: Int64) {
        let kept = events.suffix(replayCapacity)
        self.recent = Deque(kept)
        self.knownAfter = kept.count < events.count ? events[events.count - kept.count - 1].sequence : knownAfter
        self.latest = latest
    }

    /// The newest sequence this node has delivered.
    public var latestSequence: Int64 { latest }

    /// How many live clients this node has.
    public var subscriberCount: Int { subscriptions.count }

    /// The topics starting with `prefix` that at least one client of this node follows.
    public func followedTopics(prefix: String) -> [String] {
        subscribersByTopic.keys.filter { $0.hasPrefix(prefix) }
    }

    /// Subscribes to `topics`. With `since`, first replays the events after it, or a `resync` when they are no longer known.
    public func subscribe(topics: Set<String>, since: Int64?) -> LiveSubscription {
        nextID += 1
        let subscription = LiveSubscription(id: nextID, topics: topics, bufferLimit: clientBuffer)
        if isShutDown {
            subscription.end(reason: "server shutting down")
            return subscription
        }
        if let since {
            switch replay(topics: topics, since: since, limit: clientBuffer) {
            case .messages(let messages):
                for message in messages { subscription.push(message) }
            case .resync(let reason):
                subscription.push(.resync(latest: latest, reason: reason))
            }
        }
        subscriptions[subscription.id] = subscription
        for topic in topics { subscribersByTopic[topic, default: []].insert(subscription.id) }
        connections.record(subscriptions.count)
        return subscription
    }

    public func unsubscribe(_ subscription: LiveSubscription) {
        guard subscriptions.removeValue(forKey: subscription.id) != nil else { return }
        for topic in subscription.topics {
            subscribersByTopic[topic]?.remove(subscription.id)
            if subscribersByTopic[topic]?.isEmpty == true { subscribersByTopic[topic] = nil }
        }
        subscription.end(reason: nil)
        connections.record(subscriptions.count)
    }

    /// What a client that has seen everything up to `since` missed on `topics`.
    public enum Replay: Sendable, Equatable {
        case messages([LiveMessage])
        case resync(reason: String)
    }

    public func replay(topics: Set<String>, since: Int64, limit: Int) -> Replay {
        if since > latest {
            return .resync(reason: "unknown position \(since): this server has seen up to \(latest)")
        }
        if since < knownAfter {
            return .resync(reason: "missed events are older than this server remembers")
        }
        var messages: [LiveMessage] = []
        for event in recent where event.sequence > since {
            if let topic = event.topics.first(where: topics.contains) {
                messages.append(LiveMessage(event: event, topic: topic))
                if messages.count > limit { return .resync(reason: "too many missed events") }
            }
        }
        return .messages(messages)
    }

    /// Pushes a message derived from events (a ticket's new position, say) to the clients of `topic`, without
    /// keeping it for replay: clients that reconnect read the current state instead.
    public func push(_ message: LiveMessage, to topic: String) {
        guard let ids = subscribersByTopic[topic] else { return }
        for id in ids {
            guard let subscription = subscriptions[id] else { continue }
            if !subscription.push(message) { unsubscribe(subscription) }
        }
    }

    public func consume(_ events: [StoredEvent]) {
        for event in events where event.sequence > latest {
            latest = event.sequence
            recent.append(event)
            if recent.count > replayCapacity { knownAfter = recent.removeFirst().sequence }
            deliver(event)
        }
    }

    private func deliver(_ event: StoredEvent) {
        var delivered: Set<Int> = []
        for topic in event.topics {
            guard let ids = subscribersByTopic[topic] else { continue }
            // Encoded once per topic, not once per client.
            let message = LiveMessage(event: event, topic: topic)
            for id in ids where !delivered.contains(id) {
                delivered.insert(id)
                guard let subscription = subscriptions[id] else { continue }
                if !subscription.push(message) {
                    logger.info("live client too slow, disconnected", metadata: ["subscription": "\(id)"])
                    unsubscribe(subscription)
                }
            }
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        shutDown()
    }

    /// Ends every subscription so that streaming responses finish and the server can stop.
    public func shutDown() {
        isShutDown = true
        for subscription in subscriptions.values {
            subscription.end(reason: "server shutting down")
        }
        subscriptions.removeAll()
        subscribersByTopic.removeAll()
        connections.record(0)
    }
}

/// One live client's view of the hub: a bounded stream of messages and, once it ends, why.
public final class LiveSubscription: Sendable {
    public let id: Int
    public let topics: Set<String>
    public let messages: AsyncStream<LiveMessage>
    private let continuation: AsyncStream<LiveMessage>.Continuation
    private let reason = Mutex<String?>(nil)

    init(id: Int, topics: Set<String>, bufferLimit: Int) {
        self.id = id
        self.topics = topics
        (messages, continuation) = AsyncStream.makeStream(of: LiveMessage.self, bufferingPolicy: .bufferingOldest(bufferLimit))
    }

    /// Queues a message; false when the client's buffer is full, in which case the stream has been ended.
    @discardableResult
    func push(_ message: LiveMessage) -> Bool {
        switch continuation.yield(message) {
        case .enqueued: return true
        case .terminated: return false
        case .dropped:
            end(reason: "too far behind: reconnect with the id of the last message received")
            return false
        @unknown default: return false
        }
    }

    func end(reason: String?) {
        if let reason {
            self.reason.withLock { current in
                if current == nil { current = reason }
            }
        }
        continuation.finish()
    }

    /// Why the stream ended, when the server ended it.
    public var endReason: String? { reason.withLock { $0 } }
}
