import AsyncHTTPClient
import Foundation
import Testing
import TurnoCore

@Suite("Telegram Bot API client, against a fake Telegram")
struct TelegramBotAPITests {
    private func client(_ fake: FakeTelegram, token: String? = nil) -> TelegramBotAPI {
        TelegramBotAPI(token: token ?? fake.token, baseURL: fake.baseURL)
    }

    @Test("getMe gives the bot's id and username, for deep links")
    func getMe() async throws {
        try await withFakeTelegram { fake in
            let me = try await client(fake).getMe()
            #expect(me.id == FakeTelegram.botID)
            #expect(me.username == "turno_test_bot")
        }
    }

    @Test("sendMessage posts chat_id, text and the buttons as reply_markup.inline_keyboard")
    func sendMessageWithButtons() async throws {
        try await withFakeTelegram { fake in
            let buttons = [
                [TelegramButton(text: "On my way", callbackData: "coming:7"), TelegramButton(text: "Cancel", callbackData: "cancel:7")],
                [TelegramButton(text: "Stop alerts", callbackData: "stop")],
            ]
            let messageID = try await client(fake).sendMessage(chatID: 42, text: "Ticket A-007 is next", buttons: buttons)
            let call = try #require(fake.calls("sendMessage").first)
            #expect(try call.decode(FakeTelegram.SentMessage.self).replyMarkup != nil)
            let json = call.json
            #expect(json["chat_id"] as? Int == 42)
            #expect(json["text"] as? String == "Ticket A-007 is next")
            let markup = try #require(json["reply_markup"] as? [String: Any])
            let rows = try #require(markup["inline_keyboard"] as? [Any])
            let keyboard = try rows.map { row in
                try #require(row as? [Any]).map { button in try #require(button as? [String: Any]).compactMapValues { $0 as? String } }
            }
            #expect(
                keyboard == [
                    [["text": "On my way", "callback_data": "coming:7"], ["text": "Cancel", "callback_data": "cancel:7"]],
                    [["text": "Stop alerts", "callback_data": "stop"]],
                ]
            )
            #expect(fake.sentMessages.first?.buttons.count == 2)
            // The id Telegram gave the message, for editing or answering it later.
            #expect(messageID > 0)
        }
    }

    @Test("sendMessage without buttons sends no reply_markup")
    func sendMessagePlain() async throws {
        try await withFakeTelegram { fake in
            _ = try await client(fake).sendMessage(chatID: 42, text: "Hello")
            let json = try #require(fake.calls("sendMessage").first).json
            #expect(json["reply_markup"] == nil)
            #expect(try await fake.waitForSent(count: 1) == [FakeTelegram.SentMessage(chatID: 42, text: "Hello", replyMarkup: nil)])
        }
    }

    @Test("getUpdates decodes messages and button presses, and an offset leaves out the older ones")
    func getUpdatesWithOffset() async throws {
        try await withFakeTelegram { fake in
            let api = client(fake)
            let first = fake.pushMessage(chatID: 555, text: "/start abc123", username: "bea", languageCode: "es", firstName: "Bea")
            let press = fake.pushCallback(chatID: 555, data: "coming:7", messageID: 1_001)

            let all = try await api.getUpdates(offset: nil, timeoutSeconds: 0)
            #expect(all.map(\.updateId) == [first, press.updateID])
            let message = try #require(all.first?.message)
            #expect(message.text == "/start abc123")
            #expect(message.chat.id == 555)
            #expect(message.from == TelegramUser(id: 555, username: "bea", languageCode: "es", firstName: "Bea"))
            #expect(message.date != nil)
            #expect(all.first?.callbackQuery == nil)
            let query = try #require(all.last?.callbackQuery)
            #expect(query.id == press.queryID)
            #expect(query.data == "coming:7")
            #expect(query.from.id == 555)
            #expect(query.message?.messageId == 1_001)
            #expect(query.message?.chat.id == 555)

            let newer = try await api.getUpdates(offset: first + 1, timeoutSeconds: 0)
            #expect(newer.map(\.updateId) == [press.updateID])
            #expect(try await api.getUpdates(offset: press.updateID + 1, timeoutSeconds: 0).isEmpty)
            // The offset confirmed them: Telegram forgets confirmed updates.
            #expect(fake.pendingUpdateCount == 0)
        }
    }

    @Test("getUpdates with a timeout waits for an update and answers as soon as one comes")
    func longPolling() async throws {
        try await withFakeTelegram { fake in
            let started = ContinuousClock.now
            async let updates = client(fake).getUpdates(offset: nil, timeoutSeconds: 10)
            try await Task.sleep(for: .milliseconds(200))
            let id = fake.pushMessage(chatID: 9, text: "hi")
            #expect(try await updates.map(\.updateId) == [id])
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test("flood control (429) gives retry_after and is worth retrying")
    func floodControl() async throws {
        try await withFakeTelegram { fake in
            let api = client(fake)
            fake.failNext("sendMessage", code: 429, retryAfter: 5)
            let error = try await #require(throws: TelegramError.self) {
                try await api.sendMessage(chatID: 42, text: "Ticket A-007 is next")
            }
            #expect(error.code == 429)
            #expect(error.retryAfterSeconds == 5)
            #expect(!error.isPermanent)
            #expect(error.description.contains("Too Many Requests"))
            // Only the next call failed.
            _ = try await api.sendMessage(chatID: 42, text: "Ticket A-007 is next")
            #expect(fake.attempts("sendMessage") == 2)
            #expect(fake.sentMessages.count == 1)
        }
    }

    @Test("a bot blocked by the user (403) is permanent")
    func blocked() async throws {
        try await withFakeTelegram { fake in
            let api = client(fake)
            fake.block(chatID: 42)
            let error = try await #require(throws: TelegramError.self) { try await api.sendMessage(chatID: 42, text: "Hello") }
            #expect(error.code == 403)
            #expect(error.isPermanent)
            #expect(error.retryAfterSeconds == nil)
            #expect(error.description.contains("bot was blocked by the user"))

            fake.failNext("sendMessage", code: 400)
            let notFound = try await #require(throws: TelegramError.self) { try await api.sendMessage(chatID: 43, text: "Hello") }
            #expect(notFound.code == 400)
            #expect(notFound.isPermanent)
            #expect(notFound.description.contains("chat not found"))
        }
    }

    @Test("server errors and transport failures are worth retrying")
    func transient() async throws {
        try await withFakeTelegram { fake in
            fake.failNext("getMe", code: 502)
            let error = try await #require(throws: TelegramError.self) { try await client(fake).getMe() }
            #expect(error.code == 502)
            #expect(!error.isPermanent)
        }
        // A client that gives up on a refused connection at once, where the shared one retries until the deadline.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let token = FakeTelegram.defaultToken
        let unreachable = TelegramBotAPI(token: token, baseURL: "http://127.0.0.1:\(try await freeLoopbackPort())", httpClient: httpClient)
        let error = await #expect(throws: TelegramError.self) { try await unreachable.getMe() }
        try await httpClient.shutdown()
        #expect(error?.code == nil)
        #expect(error?.isPermanent == false)
        #expect(error.map { "\($0)".contains(token) } == false)
    }

    @Test("a wrong token gives 401, and the error does not show the token")
    func wrongToken() async throws {
        try await withFakeTelegram { fake in
            let wrong = "987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDsZZZ"
            let error = try await #require(throws: TelegramError.self) { try await client(fake, token: wrong).getMe() }
            #expect(error.code == 401)
            #expect(error.isPermanent)
            #expect(error.description.contains("Unauthorized"))
            for text in ["\(error)", String(describing: error), String(reflecting: error.description)] {
                #expect(!text.contains(wrong))
                #expect(!text.contains("ZZZdqTcv"))
            }
        }
    }

    @Test("callback data over 64 bytes is refused before anything is sent")
    func callbackDataLimit() async throws {
        try await withFakeTelegram { fake in
            let api = client(fake)
            // 64 bytes, in 32 two-byte characters: the limit counts bytes, not characters.
            let longest = String(repeating: "é", count: 32)
            _ = try await api.sendMessage(chatID: 1, text: "ok", buttons: [[TelegramButton(text: "A", callbackData: longest)]])
            let tooLong = String(repeating: "é", count: 33)
            let error = try await #require(throws: TelegramError.self) {
                try await api.sendMessage(chatID: 1, text: "too long", buttons: [[TelegramButton(text: "A", callbackData: tooLong)]])
            }
            #expect(error.isPermanent)
            #expect(error.code == nil)
            #expect(fake.attempts("sendMessage") == 1)
        }
    }

    @Test("answerCallbackQuery answers a press by its id")
    func answerCallbackQuery() async throws {
        try await withFakeTelegram { fake in
            let api = client(fake)
            let press = fake.pushCallback(chatID: 7, data: "stop")
            try await api.answerCallbackQuery(id: press.queryID, text: "Alerts stopped")
            let call = try #require(fake.calls("answerCallbackQuery").first).json
            #expect(call["callback_query_id"] as? String == press.queryID)
            #expect(call["text"] as? String == "Alerts stopped")

            try await api.answerCallbackQuery(id: fake.pushCallback(chatID: 7, data: "stop").queryID, text: nil)
            #expect(fake.calls("answerCallbackQuery").last?.json["text"] == nil)
            // An id Telegram does not know (or one answered already) is a bad request.
            let error = try await #require(throws: TelegramError.self) { try await api.answerCallbackQuery(id: press.queryID, text: nil) }
            #expect(error.code == 400)
        }
    }

    @Test("setWebhook sends the URL and secret; deleteWebhook lets getUpdates work again")
    func webhook() async throws {
        try await withFakeTelegram { fake in
            let api = client(fake)
            try await api.setWebhook(url: "https://turno.example/telegram/webhook", secretToken: "s3cret_-Token")
            let call = try #require(fake.calls("setWebhook").first).json
            #expect(call["url"] as? String == "https://turno.example/telegram/webhook")
            #expect(call["secret_token"] as? String == "s3cret_-Token")
            #expect(fake.webhookURL == "https://turno.example/telegram/webhook")

            // Telegram refuses getUpdates while a webhook is set: a conflict, not a permanent failure.
            let conflict = try await #require(throws: TelegramError.self) { try await api.getUpdates(offset: nil, timeoutSeconds: 0) }
            #expect(conflict.code == 409)
            #expect(!conflict.isPermanent)

            try await api.deleteWebhook()
            #expect(fake.webhookURL == nil)
            #expect(try await api.getUpdates(offset: nil, timeoutSeconds: 0).isEmpty)

            await #expect(throws: TelegramError.self) { try await api.setWebhook(url: "https://turno.example/hook", secretToken: "has spaces") }
            #expect(fake.attempts("setWebhook") == 1)
        }
    }

    @Test("the webhook secret header must match exactly")
    func webhookSecret() {
        let secret = "s3cret_-Token"
        #expect(TelegramBotAPI.webhookSecretMatches(header: secret, expected: secret))
        #expect(!TelegramBotAPI.webhookSecretMatches(header: "s3cret_-Tokem", expected: secret))
        #expect(!TelegramBotAPI.webhookSecretMatches(header: "s3cret", expected: secret))
        #expect(!TelegramBotAPI.webhookSecretMatches(header: secret + "x", expected: secret))
        #expect(!TelegramBotAPI.webhookSecretMatches(header: "", expected: secret))
        #expect(!TelegramBotAPI.webhookSecretMatches(header: nil, expected: secret))
        // With no secret configured nothing matches, not even an empty header.
        #expect(!TelegramBotAPI.webhookSecretMatches(header: "", expected: ""))
        #expect(TelegramBotAPI.isValidWebhookSecret(secret))
        #expect(!TelegramBotAPI.isValidWebhookSecret(""))
        #expect(!TelegramBotAPI.isValidWebhookSecret(String(repeating: "a", count: 257)))
    }

    @Test("isValidToken accepts BotFather's form only")
    func tokenFormat() {
        #expect(TelegramBotAPI.isValidToken(FakeTelegram.defaultToken))
        #expect(TelegramBotAPI.isValidToken("7:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDs_-1"))
        #expect(!TelegramBotAPI.isValidToken(""))
        #expect(!TelegramBotAPI.isValidToken("123456789"))
        #expect(!TelegramBotAPI.isValidToken("123456789:"))
        #expect(!TelegramBotAPI.isValidToken(":AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"))
        #expect(!TelegramBotAPI.isValidToken("12345678a:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"))
        #expect(!TelegramBotAPI.isValidToken("123456789:AAHdqTcv"))
        #expect(!TelegramBotAPI.isValidToken("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa w1"))
        #expect(!TelegramBotAPI.isValidToken("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1:x"))
        #expect(!TelegramBotAPI.isValidToken(" 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"))
    }
}
