import Fleet
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Queues
import Sessions
import ServiceLifecycle
import TurnoCore

/// The modules this server runs.
public let turnoModules: [any TurnoModule] = [QueuesModule(), FleetModule(), SessionsModule()]

/// Builds the HTTP application on an opened platform: middleware, platform routes and every module's routes.
public func buildApplication(
    platform: Platform,
    modules: [any TurnoModule] = turnoModules,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let settings = platform.settings
    let registry = TurnoMetrics.registry
    let router = Router(context: TurnoRequestContext.self)
    router.addMiddleware {
        AccessLogMiddleware(logger: platform.logger)
        MetricsMiddleware()
        SecurityHeadersMiddleware()
        ProblemMiddleware(logger: platform.logger)
        BodyLimitMiddleware(limit: settings.maxBody)
    }
    OperationsRoutes(storage: platform.storage, registry: registry).add(to: router)
    LiveRoutes(hub: platform.hub, heartbeat: .seconds(settings.liveHeartbeatSeconds)).add(to: router)
    HomePage(modules: modules).add(to: router)
    for module in modules {
        module.addRoutes(to: router, platform: platform)
    }
    return Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: .init(ws: .init(autoPing: .enabled(timePeriod: .seconds(settings.liveHeartbeatSeconds))))
        ),
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
    let app = buildApplication(platform: platform) { port in
        let base = "http://\(settings.host):\(port)"
        let elapsed = ContinuousClock.now - started
        logger.info("Turno \(TurnoVersion.current) ready on \(settings.database) in \(elapsed.formatted(.units(allowed: [.milliseconds])))")
        for link in startupLinks(modules: turnoModules) {
            logger.info("\(link.title): \(base)\(link.path)")
        }
    }
    let group = ServiceGroup(
        configuration: .init(
            services: platform.services(around: app),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    try await group.run()
}

/// Every URL printed at start-up: the home page, each module's pages and the operations endpoints.
func startupLinks(modules: [any TurnoModule]) -> [PageLink] {
    [PageLink(title: "Home", path: "/")]
        + modules.flatMap(\.pages)
        + [
            PageLink(title: "Live (WebSocket)", path: "/live/ws?topics=…"),
            PageLink(title: "Health", path: "/healthz"),
            PageLink(title: "Readiness", path: "/readyz"),
            PageLink(title: "Metrics", path: "/metrics"),
        ]
}
