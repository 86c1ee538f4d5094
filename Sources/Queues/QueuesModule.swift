import Foundation
import Hummingbird
import TurnoCore

/// Queues: tickets, least-loaded routing, counters, displays.
public struct QueuesModule: TurnoModule {
    public let name = "queues"
    public var migrations: [Migration] { QueueSchema.migrations }
    public let pages: [PageLink] = [
        PageLink(title: "Kiosk", path: "/b/{branch}/kiosk"),
        PageLink(title: "Display", path: "/b/{branch}/display"),
        PageLink(title: "Operator console", path: "/console"),
        PageLink(title: "Administration", path: "/admin"),
    ]

    public init() {}

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {
        let store = QueueStore(storage: platform.storage)
        platform.addEventConsumer(TicketPositions(store: store, hub: platform.hub, logger: platform.logger))
        platform.addBackgroundService(DailyRollover(store: store, storage: platform.storage, logger: platform.logger, interval: .seconds(60)))
        SetupController(store: store, storage: platform.storage).add(to: router)
        CounterController(store: store).add(to: router)
        DashboardController(store: store, storage: platform.storage).add(to: router)
        let tickets = PublicTicketsController(
            store: store, storage: platform.storage, hub: platform.hub, limiter: platform.rateLimiter,
            anonymousIssueLimit: platform.settings.rateLimits.ticketIssue
        )
        tickets.add(to: router)
        PagesController(renderer: try PageRenderer.load(resources: Bundle.module.url(forResource: "Resources", withExtension: nil), module: "Queues"), store: store, tickets: tickets, hub: platform.hub).add(to: router)
    }
}
