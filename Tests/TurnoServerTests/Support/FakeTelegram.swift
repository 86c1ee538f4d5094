import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TurnoCore

/// A stand-in for the Telegram Bot API on a free loopback port, answering `/bot<token>/<method>` with the documented
/// `{"ok": true, "result": ...}` and `{"ok": false, "error_code": ..., "description": ...}` shapes, for the methods the
/// server uses: getMe, getUpdates, sendMessage, answerCallbackQuery, setWebhook and deleteWebhook.
///
/// Tests push updates (a user's text, a button press) for getUpdates to hand out, read back every call the server made,
/// and make calls fail (flood control, a blocked bot) to see how the server copes.
final class FakeTelegram: Sendable {
    /// A token of the form BotFather gives.
    static let defaultToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"

    /// The bot `getMe` describes.
    static let botID: Int64 = 123_456_789
    let botUsername: String
    let token: String

    private let state = Mutex(State())
    private let server = Mutex<Running?>(nil)

    /// The address to give `TelegramBotAPI(baseURL:)`.
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var port: Int { server.withLock { $0?.port ?? 0 } }

    /// Starts a fake for `token`; `stop()` it afterwards (or use `withFakeTelegram`, which does).
    static func start(token: String = defaultToken, botUsername: String = "turno_test_bot") async throws -> FakeTelegram {
        let fake = FakeTelegram(token: token, botUsername: botUsername)
        try await fake.run()
        return fake
    }

    private init(token: String, botUsername: String) {
        self.token = token
        self.botUsername = botUsername
    }

    private func run() async throws {
        var logger = Logger(label: "fake-telegram")
        logger.logLevel = .error
        let router = Router()
        router.post("{bot}/{method}") { [self] request, context in
            try await handle(request, context: context)
        }
        let app = try await LoopbackApp.start(router, name: "FakeTelegram", logger: logger)
        server.withLock { $0 = Running(port: app.port, group: app.group, task: app.task) }
    }

    /// Stops the server, ending held getUpdates requests first; safe to repeat.
    func stop() async throws {
        state.withLock { $0.stopped = true }
        let running = server.withLock { value in
            defer { value = nil }
            return value
        }
        guard let running else { return }
        await running.group.triggerGracefulShutdown()
        try await running.task.value
    }

    // MARK: Updates

    /// Queues a text message from a private chat (whose id is the user's, as in Telegram) and returns its update id.
    @discardableResult
    func pushMessage(chatID: Int64, text: String, username: String? = "ana", languageCode: String? = "en", firstName: String = "Ana") -> Int64 {
        state.withLock { state in
            let updateID = state.nextUpdateID()
            let messageID = state.nextMessageID()
            let update = Self.messageUpdate(
                updateID: updateID,
                messageID: messageID,
                chatID: chatID,
                text: text,
                username: username,
                languageCode: languageCode,
                firstName: firstName
            )
            state.updates.append((updateID, update))
            return updateID
        }
    }

    /// Queues a press, by the user of private chat `chatID`, of a button with `data` under the bot's message `messageID`
    /// (by default the last one sent to that chat), and returns the update id and the callback query id to answer.
    @discardableResult
    func pushCallback(chatID: Int64, data: String, messageID: Int64? = nil) -> (updateID: Int64, queryID: String) {
        state.withLock { state in
            let updateID = state.nextUpdateID()
            let queryID = "cbq-\(updateID)"
            let message = messageID ?? state.lastSent[chatID] ?? 1
            let text = state.sentText[message] ?? "…"
            let update = Self.callbackUpdate(
                updateID: updateID,
                queryID: queryID,
                chatID: chatID,
                messageID: message,
                messageText: text,
                data: data,
                botUsername: botUsername
            )
            state.updates.append((updateID, update))
            state.openQueries.insert(queryID)
            return (updateID, queryID)
        }
    }

    /// The JSON of an update with a user's text message, as Telegram sends it to getUpdates and to webhooks.
    static func messageUpdate(
        updateID: Int64,
        messageID: Int64,
        chatID: Int64,
        text: String,
        username: String? = "ana",
        languageCode: String? = "en",
        firstName: String = "Ana"
    ) -> Data {
        var chat: [String: Any] = ["id": Int(chatID), "type": "private", "first_name": firstName]
        chat["username"] = username
        let update: [String: Any] = [
            "update_id": Int(updateID),
            "message": [
                "message_id": Int(messageID),
                "date": Int(Date().timeIntervalSince1970),
                "chat": chat,
                "from": user(id: chatID, username: username, languageCode: languageCode, firstName: firstName),
                "text": text,
            ] as [String: Any],
        ]
        return json(update)
    }

    /// The JSON of an update with a button press under the bot's message `messageID` in private chat `chatID`.
    static func callbackUpdate(
        updateID: Int64,
        queryID: String,
        chatID: Int64,
        messageID: Int64,
        messageText: String = "…",
        data: String,
        botUsername: String = "turno_test_bot"
    ) -> Data {
        let update: [String: Any] = [
            "update_id": Int(updateID),
            "callback_query": [
                "id": queryID,
                "from": user(id: chatID, username: "ana", languageCode: "en", firstName: "Ana"),
                "chat_instance": "-\(chatID)7",
                "data": data,
                "message": [
                    "message_id": Int(messageID),
                    "date": Int(Date().timeIntervalSince1970),
                    "chat": ["id": Int(chatID), "type": "private", "first_name": "Ana"] as [String: Any],
                    "from": ["id": Int(botID), "is_bot": true, "first_name": "Turno", "username": botUsername] as [String: Any],
                    "text": messageText,
                ] as [String: Any],
            ] as [String: Any],
        ]
        return json(update)
    }

    private static func user(id: Int64, username: String?, languageCode: String?, firstName: String) -> [String: Any] {
        var user: [String: Any] = ["id": Int(id), "is_bot": false, "first_name": firstName]
        user["username"] = username
        user["language_code"] = languageCode
        return user
    }

    // MARK: What the server did

    /// One successful call: its method and its JSON body as sent.
    struct Call: Sendable {
        let method: String
        let body: Data

        /// The body as JSON objects, for checking exact field names.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: body) }
    }

    /// A `sendMessage` call's parameters.
    struct SentMessage: Decodable, Sendable, Equatable {
        let chatID: Int64
        let text: String
        let replyMarkup: ReplyMarkup?

        /// The rows of inline buttons, empty when there are none.
        var buttons: [[Button]] { replyMarkup?.inlineKeyboard ?? [] }

        struct ReplyMarkup: Decodable, Sendable, Equatable {
            let inlineKeyboard: [[Button]]
            enum CodingKeys: String, CodingKey { case inlineKeyboard = "inline_keyboard" }
        }

        struct Button: Decodable, Sendable, Equatable {
            let text: String
            let callbackData: String?
            enum CodingKeys: String, CodingKey {
                case text
                case callbackData = "callback_data"
            }
        }

        enum CodingKeys: String, CodingKey {
            case chatID = "chat_id"
            case text
            case replyMarkup = "reply_markup"
        }
    }

    /// Every successful call of `method`, oldest first.
    func calls(_ method: String) -> [Call] {
        state.withLock { $0.calls.filter { $0.method == method } }
    }

    /// How many times `method` was called, failed calls included.
    func attempts(_ method: String) -> Int {
        state.withLock { $0.attempts[method, default: 0] }
    }

    /// The messages sent so far, oldest first.
    var sentMessages: [SentMessage] {
        calls("sendMessage").compactMap { try? $0.decode(SentMessage.self) }
    }

    /// The webhook URL set, or nil when updates are fetched with getUpdates.
    var webhookURL: String? { state.withLock { $0.webhook?.url } }

    /// Updates queued and not yet confirmed by a getUpdates offset past them.
    var pendingUpdateCount: Int { state.withLock { $0.updates.count } }

    /// Waits until `count` calls of `method` have succeeded, polling every 20 ms, and returns them.
    @discardableResult
    func waitForCalls(_ method: String, count: Int, timeout: Duration = .seconds(10)) async throws -> [Call] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let calls = calls(method)
            if calls.count >= count { return calls }
            guard ContinuousClock.now < deadline else {
                throw FakeTelegramError("\(calls.count) of \(count) \(method) calls arrived within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until `count` messages have been sent, polling every 20 ms, and returns them.
    @discardableResult
    func waitForSent(count: Int, timeout: Duration = .seconds(10)) async throws -> [SentMessage] {
        try await waitForCalls("sendMessage", count: count, timeout: timeout).compactMap { try? $0.decode(SentMessage.self) }
    }

    // MARK: Failures

    /// Makes the next `times` calls of `method` fail with `code`: 429 with `retry_after` (flood control), 403 (the
    /// user blocked the bot), 400 (chat not found), or any other code with `description`.
    func failNext(_ method: String, times: Int = 1, code: Int, retryAfter: Int? = nil, description: String? = nil) {
        let failure = Failure(code: code, description: description ?? Self.defaultDescription(code: code, retryAfter: retryAfter), retryAfter: retryAfter)
        state.withLock { $0.failures[method, default: []] += Array(repeating: failure, count: times) }
    }

    /// Makes every sendMessage to `chatID` fail as Telegram does once the user has blocked the bot.
    func block(chatID: Int64) {
        state.withLock { _ = $0.blocked.insert(chatID) }
    }

    private static func defaultDescription(code: Int, retryAfter: Int?) -> String {
        switch code {
        case 400: "Bad Request: chat not found"
        case 403: "Forbidden: bot was blocked by the user"
        case 429: "Too Many Requests: retry after \(retryAfter ?? 1)"
        default: "Internal Server Error"
        }
    }

    // MARK: Serving

    private struct Failure {
        let code: Int
        let description: String
        let retryAfter: Int?
    }

    private struct State {
        var updates: [(id: Int64, json: Data)] = []
        var lastUpdateID: Int64 = 100
        var lastMessageID: Int64 = 1_000
        var calls: [Call] = []
        var attempts: [String: Int] = [:]
        var failures: [String: [Failure]] = [:]
        var blocked: Set<Int64> = []
        var openQueries: Set<String> = []
        var lastSent: [Int64: Int64] = [:]
        var sentText: [Int64: String] = [:]
        var webhook: (url: String, secret: String)?
        var stopped = false

        mutating func nextUpdateID() -> Int64 {
            lastUpdateID += 1
            return lastUpdateID
        }

        mutating func nextMessageID() -> Int64 {
            lastMessageID += 1
            return lastMessageID
        }
    }

    private struct Running: Sendable {
        let port: Int
        let group: ServiceGroup
        let task: Task<Void, any Error>
    }

    private func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        guard context.parameters.get("bot") == "bot" + token else { return Self.failure(401, "Unauthorized") }
        let method = context.parameters.get("method") ?? ""
        let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
        let failure: Failure? = state.withLock { state in
            state.attempts[method, default: 0] += 1
            guard var queued = state.failures[method], !queued.isEmpty else { return nil }
            let first = queued.removeFirst()
            state.failures[method] = queued
            return first
        }
        if let failure { return Self.failure(failure.code, failure.description, retryAfter: failure.retryAfter) }
        switch method {
        case "getMe":
            record(method, body)
            return Self.ok(Self.json(["id": Int(Self.botID), "is_bot": true, "first_name": "Turno", "username": botUsername, "can_join_groups": false]))
        case "getUpdates":
            return try await getUpdates(body)
        case "sendMessage":
            return sendMessage(body)
        case "answerCallbackQuery":
            struct Parameters: Decodable {
                let callback_query_id: String
                let text: String?
            }
            guard let parameters = try? JSONDecoder().decode(Parameters.self, from: body) else { return Self.badRequest("callback_query_id is required") }
            let known = state.withLock { $0.openQueries.remove(parameters.callback_query_id) != nil }
            guard known else { return Self.badRequest("query is too old and response timeout expired or query ID is invalid") }
            record(method, body)
            return Self.ok(Data("true".utf8))
        case "setWebhook":
            struct Parameters: Decodable {
                let url: String
                let secret_token: String?
            }
            guard let parameters = try? JSONDecoder().decode(Parameters.self, from: body) else { return Self.badRequest("url is required") }
            state.withLock { $0.webhook = parameters.url.isEmpty ? nil : (parameters.url, parameters.secret_token ?? "") }
            record(method, body)
            return Self.ok(Data("true".utf8), description: parameters.url.isEmpty ? "Webhook was deleted" : "Webhook was set")
        case "deleteWebhook":
            state.withLock { $0.webhook = nil }
            record(method, body)
            return Self.ok(Data("true".utf8), description: "Webhook was deleted")
        default:
            return Self.failure(404, "Not Found")
        }
    }

    private func record(_ method: String, _ body: Data) {
        state.withLock { $0.calls.append(Call(method: method, body: body)) }
    }

    private func getUpdates(_ body: Data) async throws -> Response {
        struct Parameters: Decodable {
            let offset: Int64?
            let limit: Int?
            let timeout: Int?
        }
        let parameters = (try? JSONDecoder().decode(Parameters.self, from: body)) ?? Parameters(offset: nil, limit: nil, timeout: nil)
        if state.withLock({ $0.webhook != nil }) {
            return Self.failure(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        }
        record("getUpdates", body)
        let limit = min(max(parameters.limit ?? 100, 1), 100)
        let deadline = ContinuousClock.now.advanced(by: .seconds(min(max(parameters.timeout ?? 0, 0), 50)))
        // Held until an update is there, the timeout passes or the fake stops, as Telegram's long polling.
        while true {
            let (ready, stopped) = state.withLock { state in
                // An offset confirms every update before it: Telegram forgets them.
                if let offset = parameters.offset { state.updates.removeAll { $0.id < offset } }
                return (state.updates.prefix(limit).map(\.json), state.stopped)
            }
            if !ready.isEmpty || stopped || ContinuousClock.now >= deadline {
                return Self.ok(Data("[".utf8) + Data(ready.joined(separator: Data(",".utf8))) + Data("]".utf8))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func sendMessage(_ body: Data) -> Response {
        guard let message = try? JSONDecoder().decode(SentMessage.self, from: body) else { return Self.badRequest("chat_id and text are required") }
        guard !message.text.isEmpty else { return Self.badRequest("message text is empty") }
        guard message.text.count <= 4096 else { return Self.badRequest("message is too long") }
        for button in message.buttons.joined() {
            guard let data = button.callbackData, (1...64).contains(data.utf8.count) else { return Self.badRequest("BUTTON_DATA_INVALID") }
        }
        let messageID: Int64? = state.withLock { state in
            guard !state.blocked.contains(message.chatID) else { return nil }
            let id = state.nextMessageID()
            state.lastSent[message.chatID] = id
            state.sentText[id] = message.text
            state.calls.append(Call(method: "sendMessage", body: body))
            return id
        }
        guard let messageID else { return Self.failure(403, "Forbidden: bot was blocked by the user") }
        return Self.ok(
            Self.json([
                "message_id": Int(messageID),
                "date": Int(Date().timeIntervalSince1970),
                "chat": ["id": Int(message.chatID), "type": "private"] as [String: Any],
                "from": ["id": Int(Self.botID), "is_bot": true, "first_name": "Turno", "username": botUsername] as [String: Any],
                "text": message.text,
            ])
        )
    }

    private static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    private static func ok(_ result: Data, description: String? = nil) -> Response {
        var body = Data(#"{"ok":true,"result":"#.utf8) + result
        if let description, let quoted = try? JSONEncoder().encode(description) {
            body += Data(#","description":"#.utf8) + quoted
        }
        return respond(200, body + Data("}".utf8))
    }

    private static func badRequest(_ reason: String) -> Response {
        failure(400, "Bad Request: \(reason)")
    }

    private static func failure(_ code: Int, _ description: String, retryAfter: Int? = nil) -> Response {
        var object: [String: Any] = ["ok": false, "error_code": code, "description": description]
        if let retryAfter { object["parameters"] = ["retry_after": retryAfter] }
        return respond(code, json(object))
    }

    private static func respond(_ code: Int, _ body: Data) -> Response {
        Response(
            status: HTTPResponse.Status(code: code),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

/// The fake could not do what a test asked.
struct FakeTelegramError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` against a new fake Telegram and stops it afterwards, also when `body` throws.
func withFakeTelegram<T>(
    token: String = FakeTelegram.defaultToken,
    botUsername: String = "turno_test_bot",
    _ body: (FakeTelegram) async throws -> T
) async throws -> T {
    let fake = try await FakeTelegram.start(token: token, botUsername: botUsername)
    do {
        let result = try await body(fake)
        try await fake.stop()
        return result
    } catch {
        try? await fake.stop()
        throw error
    }
}
