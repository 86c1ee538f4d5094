import Configuration
import Foundation

/// How this server reaches customers outside its pages: an SMTP relay for e-mail (`TURNO_SMTP_*`), a Telegram bot
/// (`TURNO_TELEGRAM_*`) and the contact Web Push services see (`TURNO_PUSH_CONTACT`). E-mail and Telegram are off
/// until set; push needs nothing (the server makes its VAPID key pair on first start).
public struct NotificationSettings: Sendable {
    public var smtp: SMTPSettings?
    public var telegram: TelegramSettings?
    /// The `sub` of VAPID tokens: a `mailto:` or `https:` URL where push services can reach the operator.
    public var pushContact: String
    /// How customers reach this server (`TURNO_PUBLIC_ORIGIN`, such as `https://turno.example.org`), for the links in
    /// messages sent outside a request; nil for the address it listens on.
    public var publicOrigin: String?

    /// A bot: its token from @BotFather, the Bot API's address (a local stand-in in tests), and how updates arrive.
    public struct TelegramSettings: Sendable {
        public var token: String
        public var apiBase: String
        /// This server's public https origin when Telegram should post updates to it (webhook mode); nil for long
        /// polling, which works behind any firewall.
        public var webhookOrigin: String?

        public init(token: String, apiBase: String = "https://api.telegram.org", webhookOrigin: String? = nil) {
            self.token = token
            self.apiBase = apiBase
            self.webhookOrigin = webhookOrigin
        }

        /// The secret Telegram sends back with each webhook update (derived from the token, so every node agrees).
        public var webhookSecret: String {
            String(SecretHash.of("telegram webhook " + token).prefix(48))
        }
    }

    public init(smtp: SMTPSettings? = nil, telegram: TelegramSettings? = nil, pushContact: String = "mailto:turno@localhost", publicOrigin: String? = nil) {
        self.smtp = smtp
        self.telegram = telegram
        self.pushContact = pushContact
        self.publicOrigin = publicOrigin
    }

    public init(config: ConfigReader) throws(SettingsError) {
        let turno = config.scoped(to: "turno")
        var smtp: SMTPSettings?
        if let host = turno.string(forKey: "smtpHost") {
            let securityText = turno.string(forKey: "smtpSecurity", default: "starttls").lowercased()
            let security: SMTPSettings.Security
            switch securityText {
            case "starttls": security = .startTLS
            case "tls": security = .tls
            case "none": security = .none
            default: throw SettingsError("TURNO_SMTP_SECURITY must be starttls, tls or none, got \(securityText)")
            }
            guard let from = turno.string(forKey: "smtpFrom"), from.contains("@") else {
                throw SettingsError("TURNO_SMTP_FROM must be the address e-mails come from, such as turno@example.org")
            }
            let portText = turno.string(forKey: "smtpPort") ?? String(security.defaultPort)
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw SettingsError("TURNO_SMTP_PORT must be a port number from 1 to 65535, got \(portText)")
            }
            smtp = SMTPSettings(
                host: host,
                port: port,
                security: security,
                username: turno.string(forKey: "smtpUsername"),
                password: turno.string(forKey: "smtpPassword", isSecret: true),
                from: from,
                trustRootsPath: turno.string(forKey: "smtpCa")
            )
        }
        var telegram: TelegramSettings?
        if let token = turno.string(forKey: "telegramToken", isSecret: true) {
            guard TelegramBotAPI.isValidToken(token) else {
                throw SettingsError("TURNO_TELEGRAM_TOKEN is not a bot token (it looks like 123456789:AA…, as @BotFather gives it)")
            }
            let webhook = turno.string(forKey: "telegramWebhook")
            if let webhook, !webhook.hasPrefix("https://") {
                throw SettingsError("TURNO_TELEGRAM_WEBHOOK must be this server's public https origin, such as https://turno.example.org")
            }
            telegram = TelegramSettings(
                token: token,
                apiBase: turno.string(forKey: "telegramApi", default: "https://api.telegram.org"),
                webhookOrigin: webhook.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            )
        }
        let contact = turno.string(forKey: "pushContact", default: "mailto:turno@localhost")
        guard contact.hasPrefix("mailto:") || contact.hasPrefix("https://") else {
            throw SettingsError("TURNO_PUSH_CONTACT must be a mailto: or https: URL, got \(contact)")
        }
        let origin = turno.string(forKey: "publicOrigin")
        if let origin, !(origin.hasPrefix("https://") || origin.hasPrefix("http://")) {
            throw SettingsError("TURNO_PUBLIC_ORIGIN must be an http or https origin, such as https://turno.example.org")
        }
        self.init(
            smtp: smtp,
            telegram: telegram,
            pushContact: contact,
            publicOrigin: origin.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        )
    }
}
