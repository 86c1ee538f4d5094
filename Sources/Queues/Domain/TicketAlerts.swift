import Foundation
import TurnoCore

/// What a customer following a ticket is told.
public enum AlertKind: String, Codable, Sendable, CaseIterable {
    /// The confirmation that they follow it now.
    case following
    /// Nearly their turn: few enough ahead, or the estimated call close enough.
    case near
    case called
    case recalled
    /// Sent to another service.
    case transferred
    /// Moved to another counter, because its counter closed.
    case moved
    /// No open counter serves it for now; it keeps its place.
    case held
    /// The branch closed for the day and the ticket ended with it.
    case closed

    /// The alert a ticket event causes for the ticket's own followers, if any.
    static func of(eventType: String) -> AlertKind? {
        switch eventType {
        case "ticket.called": .called
        case "ticket.recalled": .recalled
        case "ticket.transferred": .transferred
        case "ticket.reassigned": .moved
        case "ticket.held": .held
        case "ticket.expired": .closed
        default: nil
        }
    }
}

/// A customer's way of being told: a browser's push subscription, a Telegram chat or an e-mail address.
public enum FollowChannel: String, Codable, Sendable, CaseIterable {
    case push
    case telegram
    case email

    var notificationChannel: NotificationChannel {
        switch self {
        case .push: .push
        case .telegram: .telegram
        case .email: .email
        }
    }
}

/// A branch's alert settings: when "nearly your turn" is said, which channels customers may choose, and the texts
/// the branch wrote in place of the standard ones, per language and kind.
public struct BranchAlertSettings: Sendable, Equatable, Codable {
    /// Alert when this many or fewer are ahead; nil for never by count.
    public var nearAhead: Int?
    /// Alert when the estimated call is this many minutes away or less; nil for never by time.
    public var nearMinutes: Int?
    public var push: Bool
    public var telegram: Bool
    public var email: Bool
    /// `language → kind → text`, with `{number}`, `{counter}`, `{service}`, `{ahead}`, `{minutes}` and `{branch}` filled in.
    public var texts: [String: [String: String]]

    public static let standard = BranchAlertSettings(nearAhead: 3, nearMinutes: 5, push: true, telegram: true, email: true, texts: [:])

    public func allows(_ channel: FollowChannel) -> Bool {
        switch channel {
        case .push: push
        case .telegram: telegram
        case .email: email
        }
    }
}

/// Why alert settings or a follow request cannot be taken.
public enum AlertRuleViolation: RuleViolation, Equatable {
    case nearAheadOutOfRange(Int)
    case nearMinutesOutOfRange(Int)
    case unknownLanguage(String)
    case unknownKind(String)
    case textTooLong(String)
    case channelOff(FollowChannel)
    case channelUnavailable(FollowChannel)
    case invalidAddress(String)
    case invalidSubscription(String)
    case ticketNotWaiting
    case tooManyFollowers
    case unknownFollower

    public var kind: RuleViolationKind {
        switch self {
        case .nearAheadOutOfRange, .nearMinutesOutOfRange, .unknownLanguage, .unknownKind, .textTooLong, .invalidAddress, .invalidSubscription:
            .invalid
        case .channelOff, .channelUnavailable, .ticketNotWaiting, .tooManyFollowers: .conflict
        case .unknownFollower: .notFound
        }
    }

    public var detail: String {
        switch self {
        case .nearAheadOutOfRange(let value): "`near_ahead` must be from 1 to 50, got \(value)"
        case .nearMinutesOutOfRange(let value): "`near_minutes` must be from 1 to 240, got \(value)"
        case .unknownLanguage(let language): "texts can be given in \(AlertTexts.languages.joined(separator: ", ")), not `\(language.prefix(20))`"
        case .unknownKind(let kind): "there is no alert `\(kind.prefix(30))`; the alerts are \(AlertKind.allCases.map(\.rawValue).joined(separator: ", "))"
        case .textTooLong(let kind): "the text for `\(kind)` must have 1 to 500 characters"
        case .channelOff(let channel): "this branch does not send alerts by \(channel.rawValue)"
        case .channelUnavailable(let channel): "this server is not set up to send \(channel.rawValue) alerts"
        case .invalidAddress(let address): "`address` must be an e-mail address such as name@example.org, got `\(address.prefix(100))`"
        case .invalidSubscription(let reason): "the push subscription cannot be used: \(reason)"
        case .ticketNotWaiting: "alerts can only be asked for while the ticket is waiting or being called"
        case .tooManyFollowers: "this ticket already has ten ways of being told"
        case .unknownFollower: "no such alert subscription on this ticket"
        }
    }
}

/// The rules of alerts, pure.
public enum TicketAlerts {
    /// Whether a waiting ticket is near its turn by the branch's settings: `ahead` people before it, its call
    /// estimated `etaS` seconds away.
    public static func isNear(ahead: Int?, etaS: Int?, settings: BranchAlertSettings) -> Bool {
        if let limit = settings.nearAhead, let ahead, ahead <= limit { return true }
        if let minutes = settings.nearMinutes, let etaS, etaS <= minutes * 60 { return true }
        return false
    }

    /// Checks settings as an admin sends them.
    public static func validated(_ settings: BranchAlertSettings) throws(AlertRuleViolation) -> BranchAlertSettings {
        if let ahead = settings.nearAhead, !(1...50).contains(ahead) { throw .nearAheadOutOfRange(ahead) }
        if let minutes = settings.nearMinutes, !(1...240).contains(minutes) { throw .nearMinutesOutOfRange(minutes) }
        var texts: [String: [String: String]] = [:]
        for (language, byKind) in settings.texts {
            guard AlertTexts.languages.contains(language) else { throw .unknownLanguage(language) }
            for (kind, text) in byKind {
                guard AlertKind(rawValue: kind) != nil else { throw .unknownKind(kind) }
                let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
                // An empty text means "the standard one": it is dropped rather than stored.
                if text.isEmpty { continue }
                guard text.count <= 500 else { throw .textTooLong(kind) }
                texts[language, default: [:]][kind] = text
            }
        }
        var checked = settings
        checked.texts = texts
        return checked
    }

    /// A plausible e-mail address: one `@`, something before it, a dotted domain after it, no spaces or controls.
    public static func validEmail(_ text: String) throws(AlertRuleViolation) -> String {
        let address = text.trimmingCharacters(in: .whitespaces)
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "<" && $0 != ">" && $0 != "," })
        else { throw .invalidAddress(text) }
        return address
    }
}

/// The words of alerts: the branch's own texts where it wrote some, else the standard ones of the language.
public struct AlertTexts: Sendable {
    public static let languages = ["en", "it"]

    /// What the placeholders stand for in one alert.
    public struct Values: Sendable, Codable, Equatable {
        public var number: String
        public var service: String
        public var counter: String?
        public var ahead: Int?
        public var minutes: Int?
        public var branch: String

        public init(number: String, service: String, counter: String? = nil, ahead: Int? = nil, minutes: Int? = nil, branch: String) {
            self.number = number
            self.service = service
            self.counter = counter
            self.ahead = ahead
            self.minutes = minutes
            self.branch = branch
        }
    }

    /// `language → kind → text`: the standard texts.
    let standard: [String: [String: String]]

    public static let builtIn = AlertTexts(standard: [
        "en": [
            "following": "You will be told here when ticket {number} ({service}) is nearly up at {branch}.",
            "near": "Ticket {number}: nearly your turn, {ahead} ahead of you. Please make your way to {branch}.",
            "called": "Ticket {number}: it is your turn. Please go to counter {counter}.",
            "recalled": "Ticket {number}: you are being called again at counter {counter}.",
            "transferred": "Ticket {number} has been sent on to {service}. You keep your ticket.",
            "moved": "Ticket {number}: your counter closed; you are now waiting for counter {counter}, in the same place.",
            "held": "Ticket {number}: no counter serves {service} right now. You keep your place.",
            "closed": "{branch} has closed for today and ticket {number} has ended. Sorry for the wait.",
        ],
        "it": [
            "following": "Ti avviseremo qui quando il biglietto {number} ({service}) sarà quasi di turno presso {branch}.",
            "near": "Biglietto {number}: manca poco, {ahead} persone prima di te. Avviati verso {branch}.",
            "called": "Biglietto {number}: è il tuo turno. Vai allo sportello {counter}.",
            "recalled": "Biglietto {number}: sei chiamato di nuovo allo sportello {counter}.",
            "transferred": "Il biglietto {number} è stato passato a {service}. Il biglietto resta valido.",
            "moved": "Biglietto {number}: il tuo sportello ha chiuso; ora attendi lo sportello {counter}, nella stessa posizione.",
            "held": "Biglietto {number}: al momento nessuno sportello serve {service}. Mantieni il tuo posto.",
            "closed": "{branch} ha chiuso per oggi e il biglietto {number} è terminato. Ci scusiamo per l'attesa.",
        ],
    ])

    /// The text of `kind` in `language` (English when the language has none), with the values filled in.
    public func text(_ kind: AlertKind, language: String, values: Values, branchTexts: [String: [String: String]]) -> String {
        let language = Self.languages.contains(language) ? language : "en"
        let template = branchTexts[language]?[kind.rawValue] ?? standard[language]?[kind.rawValue] ?? standard["en"]?[kind.rawValue] ?? ""
        return
            template
            .replacingOccurrences(of: "{number}", with: values.number)
            .replacingOccurrences(of: "{service}", with: values.service)
            .replacingOccurrences(of: "{counter}", with: values.counter ?? "–")
            .replacingOccurrences(of: "{ahead}", with: values.ahead.map(String.init) ?? "–")
            .replacingOccurrences(of: "{minutes}", with: values.minutes.map(String.init) ?? "–")
            .replacingOccurrences(of: "{branch}", with: values.branch)
    }
}
