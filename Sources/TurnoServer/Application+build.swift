import Fleet
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import Queues
import ServiceLifecycle
import Sessions
import TurnoCore
import UnixSignals

/// The modules this server runs.
public let turnoModules: [any TurnoModule] = [QueuesModule(), FleetModule(), SessionsModule()]

/// Every route group of the server, the platform's and then each module's (the access matrix, `docs/access.md`).
public let turnoRouteGroups: [RouteGroup] = RouteGroup.platform + turnoModules.flatMap(\.routeGroups)

/// Builds the HTTP application on an opened platform: middleware, platform routes and every module's routes.
public func buildApplication(
    platform: Platform,
    modules: [any TurnoModule] = turnoModules,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let settings = platform.settings
    let registry = TurnoMetrics.registry
    let router = Router(context: TurnoRequestContext.self)
    let routes = RouteTable()
    router.addMiddleware {
        AccessLogMiddleware(logger: platform.logger)
        MetricsMiddleware()
        SecurityHeadersMiddleware(strictTransport: settings.tls != nil)
        ProblemMiddleware(logger: platform.logger, routes: routes)
        BodyLimitMiddleware(limit: settings.maxBody)
        AuthenticationMiddleware(identity: platform.identity, trustedProxies: settings.trustedProxies)
        AuditMiddleware()
        RateLimitMiddleware.api(limiter: platform.rateLimiter, limits: settings.rateLimits, isPublicRead: isPublicRead)
    }
    OperationsRoutes(storage: platform.storage, registry: registry, metricsToken: settings.metricsToken).add(to: router)
    IdentityRoutes(identity: platform.identity, limiter: platform.rateLimiter, exportLimit: settings.rateLimits.exports, scopes: platform.scopes).add(
        to: router
    )
    NotificationRoutes(platform: platform).add(to: router)
    LiveRoutes(hub: platform.hub, heartbeat: .seconds(settings.liveHeartbeatSeconds), access: platform.topicAccess).add(to: router)
    HomePage(store: QueueStore(storage: platform.storage), navigation: platform.navigation).add(to: router)
    try APIDocumentation().add(to: router)
    for module in modules {
        try module.addRoutes(to: router, platform: platform)
    }
    routes.load(router.routes)
    let http = HTTPServerBuilder.http1WebSocketUpgrade(
        webSocketRouter: router,
        configuration: .init(ws: .init(autoPing: .enabled(timePeriod: .seconds(settings.liveHeartbeatSeconds))))
    )
    var server = http
    if let files = settings.tls {
        server = try .tls(http, tlsConfiguration: tlsConfiguration(files))
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Turno"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: platform.logger
    )
}

/// Opens everything, serves until SIGINT or SIGTERM, then stops gracefully: in-flight requests finish,
/// live connections are closed with a reason, and the database is closed last.
public func runServer(settings: ServerSettings, logger: Logger) async throws {
    let started = ContinuousClock.now
    let platform = try await Platform.open(settings: settings, modules: turnoModules, logger: logger)
    let app = try buildApplication(platform: platform) { port in
        let base = "\(settings.tls == nil ? "http" : "https")://\(settings.host):\(port)"
        let elapsed = ContinuousClock.now - started
        logger.info("Turno \(TurnoVersion.current) ready on \(settings.database) in \(elapsed.formatted(.units(allowed: [.milliseconds])))")
        var links = [PageLink(title: "Home", path: "/")]
        for module in turnoModules { links += await module.startupLinks(platform: platform) }
        links.append(PageLink(title: "API documentation", path: "/docs"))
        for link in links {
            logger.info("\(link.title): \(base)\(link.path)")
        }
    }
    var configuration = ServiceGroupConfiguration(services: platform.services(around: app), gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    // A stop must finish whatever the database does, and before a container stop's SIGKILL (10 s by default): what has
    // not stopped gracefully after 5 s is cancelled.
    configuration.maximumGracefulShutdownDuration = .seconds(5)
    // And if something still holds on (a database call that never returns), the process ends anyway.
    let watchdog = Task {
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            // Cancelled once the stop is over: then there is nothing to cut short.
            guard (try? await Task.sleep(for: .seconds(9))) != nil else { return }
            logger.error("stopping took more than 9 seconds (is the database reachable?); exiting without waiting any longer")
            exit(1)
        }
    }
    defer { watchdog.cancel() }
    try await ServiceGroup(configuration: configuration).run()
}

/// The anonymous reads that pages repeat whenever a live event arrives: a branch's snapshot (displays, kiosks) and a
/// ticket's status (the customer's page).
@Sendable func isPublicRead(_ request: Request) -> Bool {
    guard request.method == .get else { return false }
    let parts = request.uri.path.split(separator: "/")
    return (parts.count == 5 && parts[2] == "branches" && parts[4] == "snapshot") || (parts.count == 4 && parts[2] == "tickets")
}

/// The certificate chain and key for `--tls-cert` and `--tls-key`.
func tlsConfiguration(_ files: (certificate: String, key: String)) throws -> TLSConfiguration {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    do {
        chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
    } catch {
        throw SettingsError("cannot read the TLS certificate \(files.certificate): \(error)")
    }
    do {
        key = try NIOSSLPrivateKey(file: files.key, format: .pem)
    } catch {
        throw SettingsError("cannot read the TLS key \(files.key): \(error)")
    }
    return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
}
