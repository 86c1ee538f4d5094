import Foundation
import Hummingbird
import TurnoCore

/// Alerts. Customers, with their ticket's link: `GET|POST /api/v1/tickets/{ticket}/followers` (what the page can
/// offer, and asking for push or e-mail alerts), `DELETE /api/v1/tickets/{ticket}/followers/{follower}`. Admins and
/// managers: `GET|PUT /api/v1/branches/{branch}/alerts`. Telegram, in webhook mode: `POST /api/v1/telegram/webhook`.
struct AlertsController: Sendable {
    let store: QueueStore
    let followers: FollowerStore
    let commands: AlertCommands
    let notifier: Notifier
    let vapidKey: VAPIDKey
    /// The bot, when Telegram is set up: for its deep links, and the updates Telegram posts in webhook mode.
    let bot: TelegramBot?
    let webhookSecret: String?

    /// `channel` with the push `subscription` (as the browser's `PushSubscription.toJSON()` gives it) or the e-mail
    /// `address`; `language` for the alerts' words (the page's).
    struct FollowRequest: Decodable {
        var channel: FollowChannel
        var subscription: PushSubscription?
        var address: String?
        var language: String?
    }

    struct FollowerView: Codable, Sendable, ResponseEncodable {
        var id: Int64
        var channel: FollowChannel
        var createdAt: Date

        init(_ follower: TicketFollower) {
            id = follower.id
            channel = follower.channel
            createdAt = Date(milliseconds: follower.createdAtMs)
        }
    }

    /// What a ticket's page can offer, and what this ticket has asked for already.
    struct Offer: Codable, Sendable, ResponseEncodable {
        /// The server's VAPID public key (`applicationServerKey`), when this branch sends push alerts.
        var pushKey: String?
        /// The bot's deep link that follows this ticket, when this branch uses Telegram.
        var telegramLink: String?
        var email: Bool
        var items: [FollowerView]
    }

    func add(to router: Router<TurnoRequestContext>) {
        let api = router.group("/api/v1")
        api.get("/tickets/:ticket/followers", use: offer)
        api.post("/tickets/:ticket/followers", use: follow)
        api.delete("/tickets/:ticket/followers/:follower", use: unfollow)
        api.post("/telegram/webhook", use: telegramUpdate)
        let setup = router.group("/api/v1").add(middleware: RequireAccess(.branchSetup))
        setup.get("/branches/:branch/alerts", use: showSettings)
        setup.put("/branches/:branch/alerts", use: changeSettings)
    }

    @Sendable func offer(_ request: Request, context: TurnoRequestContext) async throws -> Offer {
        let ticket = try await store.ticket(linkedFrom: context)
        let (settings, items) = try await store.storage.read { sql in
            (try await followers.settings(of: ticket.branchID, sql: sql), try await followers.followers(ofTicket: ticket.id, sql: sql))
        }
        var telegramLink: String?
        if settings.telegram, let bot { telegramLink = await bot.deepLink(for: ticket) }
        return Offer(
            pushKey: settings.push && notifier.canSend(.push) ? vapidKey.publicKey : nil,
            telegramLink: telegramLink,
            email: settings.email && notifier.canSend(.email),
            items: items.map(FollowerView.init)
        )
    }

    @Sendable func follow(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let body = try await request.decode(as: FollowRequest.self, context: context)
        let ticket = try await store.ticket(linkedFrom: context)
        let address: AlertCommands.Address
        switch body.channel {
        case .push:
            guard let subscription = body.subscription else { throw Problem.unprocessable("push alerts need the browser's `subscription`") }
            address = .push(subscription)
        case .email:
            guard let email = body.address else { throw Problem.unprocessable("e-mail alerts need an `address`") }
            address = .email(email)
        case .telegram:
            throw Problem.unprocessable("Telegram alerts start in Telegram: open `telegram_link` from this ticket's followers")
        }
        let follower = try await commands.follow(
            ticket,
            at: address,
            language: body.language ?? "",
            origin: request.publicOrigin,
            clientAddress: context.clientAddress
        )
        return try Response.json(FollowerView(follower), status: .created)
    }

    @Sendable func unfollow(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        let ticket = try await store.ticket(linkedFrom: context)
        guard let id = context.parameters.get("follower", as: Int64.self) else { throw AlertRuleViolation.unknownFollower }
        try await commands.unfollow(ticket, followerID: id, clientAddress: context.clientAddress)
        return Response(status: .noContent)
    }

    @Sendable func showSettings(_ request: Request, context: TurnoRequestContext) async throws -> BranchAlertSettings {
        let branch = try await ownBranch(context)
        return try await store.storage.read { sql in try await followers.settings(of: branch.id, sql: sql) }
    }

    @Sendable func changeSettings(_ request: Request, context: TurnoRequestContext) async throws -> BranchAlertSettings {
        let branch = try await ownBranch(context)
        let settings = try await request.decode(as: BranchAlertSettings.self, context: context)
        return try await commands.setSettings(settings, of: branch.id, by: context.requirePrincipal(), address: context.clientAddress)
    }

    /// Telegram posts each update here in webhook mode, with the secret it was given in `X-Telegram-Bot-Api-Secret-Token`.
    @Sendable func telegramUpdate(_ request: Request, context: TurnoRequestContext) async throws -> Response {
        guard let bot, let webhookSecret,
            TelegramBotAPI.webhookSecretMatches(header: request.headers[.init("X-Telegram-Bot-Api-Secret-Token")!], expected: webhookSecret)
        else { throw Problem.notFound("this server takes no Telegram updates here") }
        // Telegram's updates carry many fields this server does not read: not the strict decoder of our own requests.
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let update = try? JSONCoding.decoder.decode(TelegramUpdate.self, from: Data(buffer: body)) else {
            throw Problem.badRequest("not a Telegram update")
        }
        await bot.handle(update)
        return Response(status: .ok)
    }

    private func ownBranch(_ context: TurnoRequestContext) async throws -> Branch {
        let principal = try context.requirePrincipal()
        guard let id = context.parameters.get("branch", as: Int64.self), let branch = try await store.branch(id),
            branch.organizationID == principal.organizationID, principal.canAccess(branch: id)
        else { throw Problem.notFound("there is no branch \(context.parameters.get("branch") ?? "")") }
        return branch
    }
}

extension BranchAlertSettings: ResponseEncodable {}
