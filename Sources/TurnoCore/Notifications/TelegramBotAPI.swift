import AsyncHTTPClient
import Foundation
import NIOCore

/// A client for the few Telegram Bot API methods the server uses (https://core.telegram.org/bots/api): every call is a
/// POST of a JSON body to `<baseURL>/bot<token>/<method>`, answered with `{"ok": true, "result": ...}` or
/// `{"ok": false, "error_code": ..., "description": ...}`, which becomes a ``TelegramError``.
///
/// The token is a secret and the request URL contains it, so no error this client throws mentions the URL or the token.
public struct TelegramBotAPI: Sendable {
    /// The most bytes Telegram accepts in an inline button's `callback_data`.
    public static let maxCallbackDataBytes = 64

    /// Where the Bot API answers, without a trailing slash (a local fake in tests).
    public let baseURL: String
    private let token: String
    private let httpClient: HTTPClient

    public init(token: String, baseURL: String = "https://api.telegram.org", httpClient: HTTPClient = .shared) {
        self.token = token
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.httpClient = httpClient
    }

    // MARK: Methods

    /// The bot itself; its `username` makes the deep links `https://t.me/<username>?start=<payload>`.
    public func getMe() async throws -> TelegramUser {
        try await call("getMe", NoParameters(), as: TelegramUser.self)
    }

    /// Updates from `offset` on (which also confirms, and so deletes at Telegram, every update before it), waiting up to
    /// `timeoutSeconds` for one to arrive (long polling; 0 answers at once).
    public func getUpdates(offset: Int64?, timeoutSeconds: Int) async throws -> [TelegramUpdate] {
        struct Parameters: Encodable {
            let offset: Int64?
            let timeout: Int
            // Only what this client decodes, so Telegram does not queue kinds nobody reads.
            let allowedUpdates = ["message", "callback_query"]
        }
        let timeout = max(0, timeoutSeconds)
        // Telegram holds the request for up to `timeout` seconds: the HTTP deadline must leave it time to answer.
        return try await call(
            "getUpdates",
            Parameters(offset: offset, timeout: timeout),
            as: [TelegramUpdate].self,
            deadline: .seconds(Int64(timeout) + 15)
        )
    }

    /// Sends `text` to `chatID`, with rows of inline `buttons` under it, and returns the new message's id.
    /// Throws before sending when a button's `callbackData` is longer than ``maxCallbackDataBytes``.
    public func sendMessage(chatID: Int64, text: String, buttons: [[TelegramButton]] = []) async throws -> Int64 {
        struct Parameters: Encodable {
            let chatId: Int64
            let text: String
            let replyMarkup: ReplyMarkup?
        }
        struct ReplyMarkup: Encodable {
            let inlineKeyboard: [[TelegramButton]]
        }
        for button in buttons.joined() where button.callbackData.utf8.count > Self.maxCallbackDataBytes || button.callbackData.isEmpty {
            throw TelegramError(
                method: "sendMessage",
                code: nil,
                description: "callback data must be 1 to \(Self.maxCallbackDataBytes) bytes, not \(button.callbackData.utf8.count)",
                isPermanent: true
            )
        }
        let markup = buttons.isEmpty ? nil : ReplyMarkup(inlineKeyboard: buttons)
        let message = try await call("sendMessage", Parameters(chatId: chatID, text: text, replyMarkup: markup), as: TelegramMessage.self)
        return message.messageId
    }

    /// Ends the loading indicator of a pressed button, showing `text` as a short notice when given.
    public func answerCallbackQuery(id: String, text: String?) async throws {
        struct Parameters: Encodable {
            let callbackQueryId: String
            let text: String?
        }
        _ = try await call("answerCallbackQuery", Parameters(callbackQueryId: id, text: text), as: Bool.self)
    }

    /// Has Telegram POST updates to `url`, with `secretToken` in the `X-Telegram-Bot-Api-Secret-Token` header
    /// (see ``webhookSecretMatches(header:expected:)``). Throws before sending when the secret is not one Telegram accepts.
    public func setWebhook(url: String, secretToken: String) async throws {
        struct Parameters: Encodable {
            let url: String
            let secretToken: String
            let allowedUpdates = ["message", "callback_query"]
        }
        guard Self.isValidWebhookSecret(secretToken) else {
            throw TelegramError(
                method: "setWebhook",
                code: nil,
                description: "the webhook secret must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
                isPermanent: true
            )
        }
        _ = try await call("setWebhook", Parameters(url: url, secretToken: secretToken), as: Bool.self)
    }

    /// Stops webhook delivery, so that ``getUpdates(offset:timeoutSeconds:)`` works again; pending updates are kept.
    public func deleteWebhook() async throws {
        _ = try await call("deleteWebhook", NoParameters(), as: Bool.self)
    }

    // MARK: Checks

    /// Whether `token` has the form BotFather gives: the bot's numeric id, a colon, and a secret of letters, digits, `_`
    /// and `-` (35 characters today; a little leeway either way).
    public static func isValidToken(_ token: String) -> Bool {
        let parts = token.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let id = parts[0].utf8
        let secret = parts[1].utf8
        return (1...20).contains(id.count) && id.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            && (30...64).contains(secret.count) && secret.allSatisfy(isSecretCharacter)
    }

    /// Whether `secret` is one `setWebhook` accepts as `secret_token`: 1 to 256 characters of A-Z, a-z, 0-9, `_` and `-`.
    public static func isValidWebhookSecret(_ secret: String) -> Bool {
        (1...256).contains(secret.utf8.count) && secret.utf8.allSatisfy(isSecretCharacter)
    }

    /// Whether a webhook request's `X-Telegram-Bot-Api-Secret-Token` header is `expected`. The comparison takes the same
    /// time wherever the first difference is, so the answer times do not reveal the secret a byte at a time.
    public static func webhookSecretMatches(header: String?, expected: String) -> Bool {
        guard let header, !expected.isEmpty else { return false }
        let given = Array(header.utf8)
        let wanted = Array(expected.utf8)
        var difference: UInt8 = given.count == wanted.count ? 0 : 1
        // Always the expected length: the time depends on nothing the sender controls.
        for index in wanted.indices {
            difference |= wanted[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0
    }

    private static func isSecretCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    // MARK: Transport

    private struct NoParameters: Encodable {}

    /// The part of every answer that says whether the call worked, and why not.
    private struct Status: Decodable {
        struct Parameters: Decodable {
            let retryAfter: Int?
        }
        let ok: Bool
        let errorCode: Int?
        let description: String?
        let parameters: Parameters?
    }

    private struct Success<Result: Decodable>: Decodable {
        let result: Result
    }

    private func call<Result: Decodable>(
        _ method: String,
        _ parameters: some Encodable,
        as type: Result.Type,
        deadline: TimeAmount = .seconds(30)
    ) async throws -> Result {
        var request = HTTPClientRequest(url: "\(baseURL)/bot\(token)/\(method)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONCoding.encoder.encode(parameters)))
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: deadline)
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 16 << 20)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw TelegramError(method: method, code: nil, description: "Telegram could not be reached: \(redacted(String(describing: error)))")
        }
        let data = Data(body.readableBytesView)
        guard let answer = try? JSONCoding.decoder.decode(Status.self, from: data) else {
            throw TelegramError(method: method, code: status, description: "Telegram answered HTTP \(status) without a Bot API answer")
        }
        guard answer.ok else {
            throw TelegramError(
                method: method,
                code: answer.errorCode ?? status,
                description: redacted(answer.description ?? "HTTP \(status)"),
                retryAfterSeconds: answer.parameters?.retryAfter
            )
        }
        do {
            return try JSONCoding.decoder.decode(Success<Result>.self, from: data).result
        } catch {
            // The same answer would come again: retrying cannot help.
            throw TelegramError(method: method, code: nil, description: "Telegram's answer could not be read: \(error)", isPermanent: true)
        }
    }

    /// `text` without the token, should anything have echoed the URL.
    private func redacted(_ text: String) -> String {
        token.isEmpty ? text : text.replacingOccurrences(of: token, with: "<token>")
    }
}

/// An inline keyboard button that sends `callbackData` back to the bot (as a ``TelegramCallbackQuery``) when pressed.
public struct TelegramButton: Encodable, Sendable, Equatable {
    public let text: String
    /// At most ``TelegramBotAPI/maxCallbackDataBytes`` bytes of UTF-8.
    public let callbackData: String

    public init(text: String, callbackData: String) {
        self.text = text
        self.callbackData = callbackData
    }
}

/// A failed Bot API call: Telegram's `error_code` and `description`, or a transport failure (no `code`).
public struct TelegramError: Error, CustomStringConvertible, Sendable {
    /// The Bot API method that failed.
    public let method: String
    /// Telegram's `error_code` (an HTTP status), or nil when no answer came or none was needed to fail.
    public let code: Int?
    /// What went wrong, never containing the token.
    public let description: String
    /// How long Telegram asks to wait before the next call (flood control, code 429).
    public let retryAfterSeconds: Int?
    /// Whether repeating the same call cannot succeed: a bad request (400: chat not found, message too long), a wrong
    /// token (401, 404), a blocked bot (403), or a request refused before sending. Flood control (429), conflicts (409),
    /// server errors and transport failures pass, so they are worth retrying.
    public let isPermanent: Bool

    public init(method: String, code: Int?, description: String, retryAfterSeconds: Int? = nil, isPermanent: Bool? = nil) {
        self.method = method
        self.code = code
        self.description = description
        self.retryAfterSeconds = retryAfterSeconds
        self.isPermanent = isPermanent ?? Self.isPermanent(code: code)
    }

    private static func isPermanent(code: Int?) -> Bool {
        guard let code, (400..<500).contains(code) else { return false }
        return code != 409 && code != 429
    }
}

/// One incoming update: a message to the bot or a button press (other kinds are not asked for).
public struct TelegramUpdate: Decodable, Sendable, Equatable {
    public let updateId: Int64
    public let message: TelegramMessage?
    public let callbackQuery: TelegramCallbackQuery?

    public init(updateId: Int64, message: TelegramMessage? = nil, callbackQuery: TelegramCallbackQuery? = nil) {
        self.updateId = updateId
        self.message = message
        self.callbackQuery = callbackQuery
    }

    private enum CodingKeys: String, CodingKey {
        case updateId, message, callbackQuery
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        updateId = try container.decode(Int64.self, forKey: .updateId)
        // An update this client cannot read is kept with its id, so the offset moves past it instead of failing the
        // whole batch again on every poll.
        message = try? container.decodeIfPresent(TelegramMessage.self, forKey: .message)
        callbackQuery = try? container.decodeIfPresent(TelegramCallbackQuery.self, forKey: .callbackQuery)
    }
}

/// A message: its id, its chat, its sender and its text (other fields are ignored).
public struct TelegramMessage: Decodable, Sendable, Equatable {
    public let messageId: Int64
    public let chat: TelegramChat
    public let from: TelegramUser?
    public let text: String?
    /// When it was sent, in Unix seconds.
    public let date: Int64?

    public init(messageId: Int64, chat: TelegramChat, from: TelegramUser? = nil, text: String? = nil, date: Int64? = nil) {
        self.messageId = messageId
        self.chat = chat
        self.from = from
        self.text = text
        self.date = date
    }
}

/// A chat; for a private chat its id is the user's.
public struct TelegramChat: Decodable, Sendable, Equatable {
    public let id: Int64

    public init(id: Int64) {
        self.id = id
    }
}

/// A Telegram user or bot.
public struct TelegramUser: Decodable, Sendable, Equatable {
    public let id: Int64
    public let username: String?
    /// The IETF language tag of the user's client, when Telegram tells it.
    public let languageCode: String?
    public let firstName: String?

    public init(id: Int64, username: String? = nil, languageCode: String? = nil, firstName: String? = nil) {
        self.id = id
        self.username = username
        self.languageCode = languageCode
        self.firstName = firstName
    }
}

/// A press of an inline button: answer it with ``TelegramBotAPI/answerCallbackQuery(id:text:)``.
public struct TelegramCallbackQuery: Decodable, Sendable, Equatable {
    public let id: String
    public let from: TelegramUser
    /// The message the button was under (absent when it is too old).
    public let message: TelegramMessage?
    /// The button's `callbackData`.
    public let data: String?

    public init(id: String, from: TelegramUser, message: TelegramMessage? = nil, data: String? = nil) {
        self.id = id
        self.from = from
        self.message = message
        self.data = data
    }
}
