import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The shared parts every module uses: settings, storage with its event log, and the live hub fed by it.
public struct Platform: Sendable {
    public let settings: ServerSettings
    public let storage: Storage
    /// The time of day and the waits of periodic work, for every module (the system's, or a test's).
    public var clock: any ServerClock { storage.clock }
    public let hub: LiveHub
    public let identity: Identity
    public let rateLimiter: RateLimiter
    public let logger: Logger
    /// The bar every staff page shows, with every module's staff pages.
    public let navigation: StaffNavigation
    /// The platform's route groups and then every module's, in order.
    public let routeGroups: [RouteGroup]
    /// Every API-key scope a module accepts.
    public let scopes: [Scope]
    /// Who may follow which live topics: the platform's rules and every module's.
    public let topicAccess: TopicAccess
    /// The outbox's delivery side: modules add their planners and senders to it.
    public let notifier: Notifier
    /// The event families webhooks may subscribe to, from every module.
    public let publishedEventFamilies: [String]
    /// How customers are reached outside the pages: SMTP, Telegram, the Web Push contact.
    public let notificationSettings: NotificationSettings
    /// The server's Web Push identity (RFC 8292), made on first start and kept in the database.
    public let vapidKey: VAPIDKey
    /// For webhooks and the other notifications that go over HTTP; shut down when the server stops.
    public let httpClient: HTTPClient
    /// The services that must run beside the HTTP server: the event feed, and storage shutdown.
    let feed: EventFeed
    /// Modules' periodic work (the queues' daily roll-over, say).
    let background = BackgroundServices()

    /// Opens the database, applies the modules' migrations and prepares the live hub.
    public static func open(
        settings: ServerSettings,
        modules: [any TurnoModule],
        logger: Logger,
        clock: any ServerClock = SystemClock()
    ) async throws -> Platform {
        for module in modules { try module.checkSettings(settings.config) }
        let notificationSettings = try NotificationSettings(config: settings.config)
        // Metrics objects created before the bootstrap would report nowhere.
        _ = TurnoMetrics.registry
        let storage = try await Storage.open(settings.database, migrations: modules.flatMap(\.migrations), logger: logger, clock: clock)
        let hub = LiveHub(replayCapacity: settings.liveReplayCapacity, clientBuffer: settings.liveClientBuffer, logger: logger)
        // Read before loading anything, so that whatever is committed from here on reaches us through the feed.
        let latest = try await storage.latestSequence()
        let identity: Identity
        do {
            identity = try await Identity.prepare(storage: storage, settings: settings.identity, logger: logger)
        } catch {
            await storage.close()
            throw error
        }
        let knownAfter = max(0, latest - Int64(settings.liveReplayCapacity))
        let recent = try await storage.events(after: knownAfter, limit: settings.liveReplayCapacity)
        await hub.seed(recent: recent, knownAfter: knownAfter, latest: latest)
        let notifier = Notifier(storage: storage, logger: logger)
        let vapidKey = try VAPIDKey(
            rawPrivateKey: Data(base64Encoded: try await notifier.store.serverKey("vapid") { VAPIDKey.generate().rawPrivateKey.base64EncodedString() })
                ?? Data()
        )
        let feed = EventFeed(storage: storage, consumers: [identity.directory, hub, notifier], startAfter: latest, logger: logger)
        let families = Array(Set(modules.flatMap(\.publishedEventFamilies))).sorted()
        var clientConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(10)))
        // Webhooks to one receiver go out many at once (the default is 8 connections a host).
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = Notifier.connectionsPerHost
        // A receiver that refuses the connection fails the attempt at once; the retry schedule tries again later.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let webhooks = WebhookStore(storage: storage)
        notifier.addPlanner(WebhookPlanner(store: webhooks, families: Set(families)))
        notifier.setSender(WebhookSender(store: webhooks, client: httpClient, logger: logger, concurrency: Notifier.connectionsPerHost), for: .webhook)
        return Platform(
            settings: settings,
            storage: storage,
            hub: hub,
            identity: identity,
            rateLimiter: RateLimiter(),
            logger: logger,
            navigation: StaffNavigation(modulePages: modules.flatMap(\.staffPages)),
            routeGroups: RouteGroup.platform + modules.flatMap(\.routeGroups),
            scopes: modules.flatMap(\.scopes),
            topicAccess: TopicAccess(rules: TopicAccess.platform + modules.flatMap(\.topics)),
            notifier: notifier,
            publishedEventFamilies: families,
            notificationSettings: notificationSettings,
            vapidKey: vapidKey,
            httpClient: httpClient,
            feed: feed
        )
    }

    /// Services to run around the HTTP server, in start order (they stop in reverse):
    /// storage closes last, the event feed stops after the server, and the hub ends live streams first
    /// so that the server's graceful shutdown is not held up by clients that never hang up.
    public func services(around server: some Service) -> [any Service] {
        [StorageCloser(storage: storage), HTTPClientCloser(client: httpClient), feed, NotifierService(notifier: notifier, logger: logger)] + background.all
            + [server, hub]
    }
}

/// Services that modules add while the server is being built.
final class BackgroundServices: Sendable {
    private let list = Mutex<[any Service]>([])
    var all: [any Service] { list.withLock { $0 } }
    func add(_ service: any Service) { list.withLock { $0.append(service) } }
}

/// Closes the database once everything that uses it has stopped.
struct StorageCloser: Service {
    let storage: Storage

    func run() async throws {
        try? await gracefulShutdown()
        await storage.close()
    }
}

/// Shuts the HTTP client down once the notifier has stopped.
struct HTTPClientCloser: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try? await client.shutdown()
    }
}

extension Platform {
    /// Runs `service` beside the server, started after storage and stopped before it.
    public func addBackgroundService(_ service: any Service) {
        background.add(service)
    }

    /// Hands every committed event to `consumer` too (a module's live projection, say).
    public func addEventConsumer(_ consumer: any EventConsumer) {
        feed.consumers.add(consumer)
    }

    /// Closes the database without running the server (for commands such as `turno migrate`).
    public func close() async {
        try? await httpClient.shutdown()
        await storage.close()
    }
}
