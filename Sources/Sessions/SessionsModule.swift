import Foundation
import Hummingbird
import TurnoCore

/// Sessions: exercise sessions, their per-user roll-ups and statistics, the athlete list and the athlete page.
public struct SessionsModule: TurnoModule {
    public let name = "sessions"
    public var migrations: [Migration] { SessionSchema.migrations }
    public let pages: [PageLink] = [PageLink(title: "Athletes", path: "/sessions"), PageLink(title: "Athlete sessions", path: "/sessions/users/{user}")]

    public let staffPages = [StaffPage(path: "/sessions", titles: ["en": "Sessions", "it": "Sessioni"])]

    public let routeGroups: [RouteGroup] = [.sessionsWrite, .sessionsRead]
    public let scopes: [Scope] = [.sessionsWrite, .sessionsRead]

    public init() {}

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {
        let store = SessionStore(storage: platform.storage)
        SessionsController(
            store: store,
            commands: SessionCommands(store: store, storage: platform.storage),
            clock: platform.clock,
            exportLimit: .exports(limiter: platform.rateLimiter, limit: platform.settings.rateLimits.exports)
        ).add(to: router)
        let renderer = try PageRenderer.load(resources: Bundle.module.url(forResource: "Resources", withExtension: nil), module: "Sessions")
        SessionPages(renderer: renderer, hub: platform.hub, navigation: platform.navigation, store: store).add(to: router)
    }
}
