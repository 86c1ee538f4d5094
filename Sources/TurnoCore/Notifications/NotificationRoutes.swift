import Hummingbird

/// The platform's notification routes: `/api/v1/webhooks` for admins.
public struct NotificationRoutes: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    public func add(to router: Router<TurnoRequestContext>) {
        let webhooks = WebhookStore(storage: platform.storage)
        WebhooksController(
            store: webhooks,
            notifications: platform.notifier.store,
            commands: WebhookCommands(store: webhooks, notifier: platform.notifier),
            families: platform.publishedEventFamilies
        ).add(to: router.group("/api/v1/webhooks").add(middleware: RequireAccess(.webhooks)))
    }
}
