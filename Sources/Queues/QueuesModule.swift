import Configuration
import Foundation
import Hummingbird
import TurnoCore

/// Queues: tickets, least-loaded routing, counters, displays.
public struct QueuesModule: TurnoModule {
    public let name = "queues"
    public let publishedEventFamilies = ["ticket", "queue", "branch"]
    public var migrations: [Migration] { QueueSchema.migrations }
    public let pages: [PageLink] = [
        PageLink(title: "Kiosk", path: "/b/{branch}/kiosk"),
        PageLink(title: "Display", path: "/b/{branch}/display"),
        PageLink(title: "Operator console", path: "/console"),
        PageLink(title: "Administration", path: "/admin"),
    ]

    public let staffPages = [
        StaffPage(path: "/console", titles: ["en": "Console", "it": "Console"]),
        StaffPage(path: "/admin", titles: ["en": "Administration", "it": "Amministrazione"], roles: [.admin, .manager]),
        StaffPage(path: "/reports", titles: ["en": "Reports", "it": "Rapporti"], roles: [.admin, .manager]),
        StaffPage(path: "/complaints", titles: ["en": "Complaints", "it": "Reclami"], roles: [.admin, .manager]),
        StaffPage(path: "/schedule", titles: ["en": "Schedule", "it": "Turni"], roles: [.admin, .manager]),
    ]

    public let routeGroups: [RouteGroup] = [
        .branchSetup, .queueOperation, .ticketDesk, .dashboard, .reports, .ownFigures, .complaints, .retention, .schedule, .ownShifts,
    ]
    public let scopes: [Scope] = [.ticketsIssue, .ticketsClasses]
    /// A counter's line, `queue:{organization}:{queue}`, is for that organization's staff; the public follow
    /// `branch:{public id}` and customers `ticket:{token}`.
    public let topics = [TopicRule.organization("queue:")]

    /// Whether ticket changes add to the report cells; `turno bench reports` turns it off for its baseline.
    let keepsReportCells: Bool

    public init(keepsReportCells: Bool = true) {
        self.keepsReportCells = keepsReportCells
    }

    public func checkSettings(_ config: ConfigReader) throws(SettingsError) {
        _ = try QueueSettings(config: config)
    }

    /// Each branch's kiosk and display (the first twenty), or where to find them before there is a branch.
    public func startupLinks(platform: Platform) async -> [PageLink] {
        let staffPages = pages.filter { !$0.path.contains("{") }
        guard let branches = try? await QueueStore(storage: platform.storage).branchesOfAllOrganizations(limit: 20), !branches.isEmpty else {
            return [
                PageLink(
                    title: "Kiosk and display",
                    path: "/admin (create a branch there: its kiosk and display links appear on it, and here from the next start)"
                )
            ]
                + staffPages
        }
        return branches.flatMap { branch in
            [
                PageLink(title: "Kiosk · \(branch.name)", path: "/b/\(branch.publicID)/kiosk"),
                PageLink(title: "Display · \(branch.name)", path: "/b/\(branch.publicID)/display"),
            ]
        } + staffPages
    }

    public func addRoutes(to router: Router<TurnoRequestContext>, platform: Platform) throws {
        let store = QueueStore(storage: platform.storage, keepsReportCells: keepsReportCells)
        platform.addEventConsumer(TicketPositions(store: store, hub: platform.hub, logger: platform.logger))
        let retention = RetentionCommands(store: store)
        platform.addBackgroundService(
            DailyRollover(store: store, storage: platform.storage, logger: platform.logger, retention: retention, interval: .seconds(60))
        )
        platform.addBackgroundService(ShiftKeeper(store: store, storage: platform.storage, logger: platform.logger, interval: .seconds(60)))
        RetentionController(store: store, commands: retention).add(to: router)
        SetupController(store: store, commands: SetupCommands(store: store, storage: platform.storage)).add(to: router)
        CounterController(
            store: store,
            commands: CounterCommands(store: store),
            directory: platform.identity.directory,
            clock: platform.clock,
            notifications: platform.notifier.store
        ).add(to: router)
        DashboardController(store: store, clock: platform.clock, identity: platform.identity).add(to: router)
        ScheduleController(
            store: store,
            commands: ScheduleCommands(store: store, directory: platform.identity.directory),
            directory: platform.identity.directory,
            clock: platform.clock
        ).add(to: router)
        TicketHistoryController(
            store: store,
            directory: platform.identity.directory,
            clock: platform.clock,
            exportLimit: .exports(limiter: platform.rateLimiter, limit: platform.settings.rateLimits.exports)
        ).add(to: router)
        let reportWriter = ReportWriter(store: store)
        if keepsReportCells { platform.addBackgroundService(ReportWriterService(writer: reportWriter, logger: platform.logger)) }
        ReportsController(
            store: store,
            writer: reportWriter,
            directory: platform.identity.directory,
            clock: platform.clock,
            exportLimit: .exports(limiter: platform.rateLimiter, limit: platform.settings.rateLimits.exports)
        ).add(to: router)
        ComplaintsController(
            store: store,
            commands: ComplaintCommands(store: store, directory: platform.identity.directory),
            directory: platform.identity.directory
        ).add(to: router)
        try addAlerts(to: router, store: store, platform: platform)
        let tickets = PublicTicketsController(
            store: store,
            commands: TicketCommands(store: store),
            hub: platform.hub,
            limiter: platform.rateLimiter,
            anonymousIssueLimit: try QueueSettings(config: platform.settings.config).anonymousIssueLimit,
            clock: platform.clock
        )
        tickets.add(to: router)
        PagesController(
            renderer: try PageRenderer.load(resources: Bundle.module.url(forResource: "Resources", withExtension: nil), module: "Queues"),
            store: store,
            tickets: tickets,
            hub: platform.hub,
            navigation: platform.navigation
        ).add(to: router)
    }

    /// Customers' alerts: the planner and the senders of each channel the server is set up for, the Telegram bot,
    /// and their routes.
    private func addAlerts(to router: Router<TurnoRequestContext>, store: QueueStore, platform: Platform) throws {
        let settings = platform.notificationSettings
        let followers = FollowerStore(storage: platform.storage)
        let notifier = platform.notifier
        let logger = platform.logger
        notifier.addPlanner(TicketAlertPlanner(store: store, followers: followers))
        let push = AlertTransport.push(client: platform.httpClient, key: platform.vapidKey, contact: settings.pushContact)
        notifier.setSender(TicketAlertSender(store: store, followers: followers, transport: push, logger: logger), for: .push)
        if let smtp = settings.smtp {
            notifier.setSender(
                TicketAlertSender(store: store, followers: followers, transport: .email(SMTPClient(settings: smtp)), logger: logger),
                for: .email
            )
        }
        let commands = AlertCommands(store: store, followers: followers, notifier: notifier)
        var bot: TelegramBot?
        if let telegram = settings.telegram {
            // Its own client: long polls outlast the shared client's read timeout.
            let api = TelegramBotAPI(token: telegram.token, baseURL: telegram.apiBase)
            let origin = settings.publicOrigin ?? telegram.webhookOrigin ?? "http://\(platform.settings.host):\(platform.settings.port)"
            let telegramBot = TelegramBot(
                api: api,
                store: store,
                tickets: TicketCommands(store: store),
                alerts: commands,
                followers: followers,
                origin: origin,
                logger: logger
            )
            notifier.setSender(TicketAlertSender(store: store, followers: followers, transport: .telegram(api), logger: logger), for: .telegram)
            let webhook = telegram.webhookOrigin.map { (url: $0 + "/api/v1/telegram/webhook", secret: telegram.webhookSecret) }
            platform.addBackgroundService(TelegramPolling(bot: telegramBot, storage: platform.storage, webhook: webhook, logger: logger))
            bot = telegramBot
        }
        AlertsController(
            store: store,
            followers: followers,
            commands: commands,
            notifier: notifier,
            vapidKey: platform.vapidKey,
            bot: bot,
            webhookSecret: settings.telegram?.webhookSecret
        ).add(to: router)
    }
}
