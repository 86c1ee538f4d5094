import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TurnoCore

/// The Telegram bot: customers take a ticket (`/take`: a branch's services as buttons), follow one from its page's
/// deep link (`/start <ticket link>`), ask where they are (`/status`) and give up their place (`/cancel`). Alerts
/// about followed tickets go through the outbox like every other channel; the bot's answers to a command are sent
/// at once, as replies.
struct TelegramBot: Sendable {
    let api: TelegramBotAPI
    let store: QueueStore
    let tickets: TicketCommands
    let alerts: AlertCommands
    let followers: FollowerStore
    /// Where links to ticket pages point (the server's public origin).
    let origin: String
    let logger: Logger
    /// The bot's name, asked of Telegram once.
    private let username = NameCache()

    final class NameCache: Sendable {
        let name = Mutex<String?>(nil)
    }

    init(api: TelegramBotAPI, store: QueueStore, tickets: TicketCommands, alerts: AlertCommands, followers: FollowerStore, origin: String, logger: Logger) {
        self.api = api
        self.store = store
        self.tickets = tickets
        self.alerts = alerts
        self.followers = followers
        self.origin = origin
        self.logger = logger
    }

    /// `https://t.me/<bot>?start=<token>`: opening it in Telegram follows the ticket (nil while the bot's name is unknown).
    func deepLink(for ticket: Ticket) async -> String? {
        guard let name = await botUsername() else { return nil }
        return "https://t.me/\(name)?start=\(ticket.token)"
    }

    private func botUsername() async -> String? {
        if let known = username.name.withLock({ $0 }) { return known }
        guard let me = try? await api.getMe(), let name = me.username else { return nil }
        username.name.withLock { $0 = name }
        return name
    }

    /// Answers one update. It never throws: what goes wrong is told to the customer, or logged.
    func handle(_ update: TelegramUpdate) async {
        do {
            if let query = update.callbackQuery {
                try await press(query)
            } else if let message = update.message, let text = message.text {
                try await command(text, chat: message.chat.id, language: BotWords.language(of: message.from))
            }
        } catch {
            logger.warning("cannot answer a Telegram update", metadata: ["update": "\(update.updateId)", "error": "\(loggable(error))"])
        }
    }

    private func command(_ text: String, chat: Int64, language: String?) async throws {
        let words = BotWords(language: language ?? "en")
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        // `/take@TurnoBot` in groups names the bot.
        let name = parts.first?.split(separator: "@").first.map(String.init) ?? ""
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : nil
        switch name {
        case "/start" where argument != nil:
            if let ticket = try await store.ticket(token: argument!), !ticket.token.hasPrefix("erased-") {
                try await follow(ticket, chat: chat, language: language)
            } else if let branch = try await store.branch(publicID: argument!) {
                try await offerServices(of: branch, chat: chat, words: words)
            } else {
                _ = try await api.sendMessage(chatID: chat, text: words.unknownLink)
            }
        case "/take":
            if let argument, let branch = try await store.branch(publicID: argument) {
                try await offerServices(of: branch, chat: chat, words: words)
            } else {
                let branches = try await store.branchesOfAllOrganizations(limit: 10).filter(\.isOpen)
                guard !branches.isEmpty else {
                    _ = try await api.sendMessage(chatID: chat, text: words.noBranch)
                    return
                }
                if branches.count == 1 { return try await offerServices(of: branches[0], chat: chat, words: words) }
                _ = try await api.sendMessage(
                    chatID: chat,
                    text: words.chooseBranch,
                    buttons: branches.map { [TelegramButton(text: $0.name, callbackData: "b:\($0.publicID)")] }
                )
            }
        case "/status":
            guard let (ticket, state) = try await latestActiveTicket(of: chat) else {
                _ = try await api.sendMessage(chatID: chat, text: words.noTicket)
                return
            }
            let status = TicketStatus(ticket, in: state)
            _ = try await api.sendMessage(chatID: chat, text: words.status(status) + "\n\(origin)/t/\(ticket.token)")
        case "/cancel":
            guard let (ticket, _) = try await latestActiveTicket(of: chat) else {
                _ = try await api.sendMessage(chatID: chat, text: words.noTicket)
                return
            }
            _ = try await tickets.cancel(ticket)
            _ = try await api.sendMessage(chatID: chat, text: words.cancelled(ticket.number.description))
        default:
            _ = try await api.sendMessage(chatID: chat, text: words.help)
        }
    }

    private func press(_ query: TelegramCallbackQuery) async throws {
        let language = BotWords.language(of: query.from)
        let words = BotWords(language: language ?? "en")
        guard let chat = query.message?.chat.id ?? Optional(query.from.id), let data = query.data else {
            try await api.answerCallbackQuery(id: query.id, text: nil)
            return
        }
        let parts = data.split(separator: ":").map(String.init)
        if parts.count == 2, parts[0] == "b", let branch = try await store.branch(publicID: parts[1]) {
            try await api.answerCallbackQuery(id: query.id, text: nil)
            try await offerServices(of: branch, chat: chat, words: words)
        } else if parts.count == 3, parts[0] == "t", let branch = try await store.branch(publicID: parts[1]), let service = Int64(parts[2]) {
            do {
                // Telegram may deliver a press twice (a retried webhook, a poll after a crash): the press's id makes it one ticket.
                let key = IdempotencyKey(scope: "telegram:\(chat)", key: "press-\(query.id)", fingerprint: "\(branch.id) \(service)")
                let (ticket, _, _) = try await tickets.issue(
                    branchID: branch.id,
                    serviceID: service,
                    customerClass: .regular,
                    channel: .online,
                    idempotencyKey: key,
                    by: nil
                )
                try await api.answerCallbackQuery(id: query.id, text: ticket.number.description)
                _ = try await api.sendMessage(chatID: chat, text: words.issued(ticket.number.description) + "\n\(origin)/t/\(ticket.token)")
                try await follow(ticket, chat: chat, language: language)
            } catch let violation as any RuleViolation {
                try await api.answerCallbackQuery(id: query.id, text: String(violation.detail.prefix(190)))
            }
        } else {
            try await api.answerCallbackQuery(id: query.id, text: words.unknownLink)
        }
    }

    private func follow(_ ticket: Ticket, chat: Int64, language: String?) async throws {
        do {
            _ = try await alerts.follow(ticket, at: .telegram(chatID: chat), language: language ?? "", origin: origin, clientAddress: "telegram")
        } catch let violation as AlertRuleViolation {
            _ = try await api.sendMessage(chatID: chat, text: violation.detail)
        }
    }

    private func offerServices(of branch: Branch, chat: Int64, words: BotWords) async throws {
        let services = try await store.services(of: branch.id)
        guard branch.isOpen, !services.isEmpty else {
            _ = try await api.sendMessage(chatID: chat, text: words.closed(branch.name))
            return
        }
        _ = try await api.sendMessage(
            chatID: chat,
            text: words.chooseService(branch.name),
            buttons: services.prefix(20).map { [TelegramButton(text: $0.name, callbackData: "t:\(branch.publicID):\($0.id)")] }
        )
    }

    private func latestActiveTicket(of chat: Int64) async throws -> (Ticket, BranchState)? {
        for id in try await followers.tickets(followedByChat: chat) {
            guard let ticket = try await store.ticket(id: id), ticket.state.isActive else { continue }
            return (ticket, try await store.state(of: ticket.branchID, organizationID: nil))
        }
        return nil
    }
}

/// The bot's own words, in English and Italian (the alerts' words are `AlertTexts`).
struct BotWords {
    let italian: Bool

    init(language: String) {
        italian = language == "it"
    }

    /// The customer's language when the alerts have it; nil for the branch's (`AlertCommands.follow` falls back to it).
    static func language(of user: TelegramUser?) -> String? {
        guard let code = user?.languageCode?.prefix(2) else { return nil }
        return AlertTexts.languages.contains(String(code)) ? String(code) : nil
    }

    var help: String {
        italian
            ? "Con questo bot puoi prendere un biglietto (/take), sapere a che punto sei (/status) e rinunciare al tuo posto (/cancel)."
            : "With this bot you can take a ticket (/take), see where you are (/status) and give up your place (/cancel)."
    }
    var unknownLink: String { italian ? "Questo link non corrisponde a nessun biglietto o sede." : "This link matches no ticket or branch." }
    var noBranch: String { italian ? "Nessuna sede è aperta in questo momento." : "No branch is open right now." }
    var chooseBranch: String { italian ? "Scegli la sede:" : "Choose the branch:" }
    var noTicket: String { italian ? "Non stai seguendo nessun biglietto in attesa. Usa /take." : "You follow no waiting ticket. Use /take." }
    func chooseService(_ branch: String) -> String { italian ? "\(branch): per quale servizio?" : "\(branch): which service?" }
    func closed(_ branch: String) -> String { italian ? "\(branch) è chiusa in questo momento." : "\(branch) is closed right now." }
    func issued(_ number: String) -> String { italian ? "Il tuo biglietto è \(number)." : "Your ticket is \(number)." }
    func cancelled(_ number: String) -> String { italian ? "Biglietto \(number) annullato." : "Ticket \(number) cancelled." }

    func status(_ status: TicketStatus) -> String {
        switch status.state {
        case .waiting:
            let ahead = status.ahead ?? 0
            let minutes = status.etaS.map { max(1, ($0 + 59) / 60) }
            if italian { return "Biglietto \(status.number): \(ahead) persone prima di te" + (minutes.map { ", circa \($0) min." } ?? ".") }
            return "Ticket \(status.number): \(ahead) ahead of you" + (minutes.map { ", about \($0) min." } ?? ".")
        case .called:
            let counter = status.counter ?? "–"
            return italian ? "Biglietto \(status.number): è il tuo turno, sportello \(counter)." : "Ticket \(status.number): your turn, counter \(counter)."
        default:
            return italian ? "Biglietto \(status.number): \(status.state.rawValue)." : "Ticket \(status.number): \(status.state.rawValue)."
        }
    }
}

/// Reads the bot's updates by long polling (`getUpdates`), on the leading node only, or in webhook mode tells
/// Telegram where to post them. Polling starts from Telegram's oldest unconfirmed update, so a node that dies
/// mid-update leaves it to the next one (a ticket press is idempotent).
struct TelegramPolling: ServiceLifecycle.Service {
    let bot: TelegramBot
    let storage: Storage
    /// Set in webhook mode: the URL and secret Telegram posts to, instead of polling.
    let webhook: (url: String, secret: String)?
    let logger: Logger
    static let lockKey: Int64 = 0x7475_726E_6F00_0005

    func run() async throws {
        let leadership = Leadership(storage: storage, key: Self.lockKey, logger: logger)
        await cancelWhenGracefulShutdown {
            await leadership.run { await lead() }
        }
    }

    private func lead() async {
        if let webhook {
            do {
                try await bot.api.setWebhook(url: webhook.url, secretToken: webhook.secret)
                logger.info("Telegram posts updates to \(webhook.url)")
            } catch {
                logger.error("cannot set the Telegram webhook", metadata: ["error": "\(loggable(error))"])
            }
            // A service that returns would stop the server: this one stays until the server stops.
            while (try? await Task.sleep(for: .seconds(3600))) != nil {}
            return
        }
        var offset: Int64?
        while !Task.isCancelled {
            do {
                let updates = try await bot.api.getUpdates(offset: offset, timeoutSeconds: 25)
                for update in updates {
                    await bot.handle(update)
                    offset = update.updateId + 1
                }
            } catch is CancellationError {
                return
            } catch let error as TelegramError {
                logger.warning("Telegram getUpdates failed; will retry", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(error.retryAfterSeconds ?? 5))
            } catch {
                logger.warning("Telegram getUpdates failed; will retry", metadata: ["error": "\(loggable(error))"])
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }
}
