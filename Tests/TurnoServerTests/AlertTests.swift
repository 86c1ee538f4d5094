import Crypto
import Foundation
import Testing
import TurnoCore

@testable import TurnoServer

@Suite("Alerts: customers told by push, e-mail and Telegram when their turn nears and when it comes")
struct AlertTests {
    /// A browser's side of a push subscription: its key pair and auth secret, and where its push service is.
    struct Browser {
        let key = P256.KeyAgreement.PrivateKey()
        let auth = Data((0..<16).map { _ in UInt8.random(in: 0...255) })

        func subscription(endpoint: String) -> String {
            let p256dh = key.publicKey.x963Representation.base64URL
            return #"{"endpoint":"\#(endpoint)","keys":{"p256dh":"\#(p256dh)","auth":"\#(auth.base64URL)"}}"#
        }

        struct Shown: Decodable {
            let title: String
            let body: String
            let url: String?
            let tag: String
        }

        /// What the service worker would show: the push message decrypted as RFC 8291 says.
        func open(_ body: Data) throws -> Shown {
            try JSONCoding.decoder.decode(Shown.self, from: try decryptPush(body, userPrivateKey: key, authSecret: auth))
        }
    }

    struct Offer: Decodable {
        let push_key: String?
        let telegram_link: String?
        let email: Bool
        let items: [Follower]
    }

    struct Follower: Decodable {
        let id: Int64
        let channel: String
    }

    struct History: Decodable {
        struct Record: Decodable {
            let channel: String
            let kind: String
            let state: String
            let response_code: Int?
        }
        let notifications: [Record]
    }

    static func follow(_ server: TestServer, _ token: String, _ body: String) async throws -> (status: Int, body: String) {
        let response = try await server.request(.POST, "/api/v1/tickets/\(token)/followers", body: body, headers: [("Content-Type", "application/json")])
        return (response.status, response.body)
    }

    @Test(
        "push: the near-turn alert and the call reach a subscription, encrypted for it and signed with the server's VAPID key",
        arguments: TestDatabase.available
    )
    func push(database: TestDatabase) async throws {
        try await withWebhookReceiver { pushService in
            try await withTestServer(database) { server in
                let admin = try await QueueAPITests.setUp(server)
                let settings = #"{"near_ahead":1,"push":true,"telegram":true,"email":true,"texts":{"en":{"called":"{number}: counter {counter} please"}}}"#
                #expect(try await admin.call(.PUT, "/api/v1/branches/1/alerts", json: settings).status == 200)
                // One counter, so that the line is one line.
                #expect(try await admin.call(.POST, "/api/v1/queues/2/close").status == 200)
                _ = try await QueueAPITests.issue(server, service: 1)
                _ = try await QueueAPITests.issue(server, service: 1)
                let mine = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
                let offer = try decodeJSON(Offer.self, try await server.request(.GET, "/api/v1/tickets/\(mine.token)/followers").body)
                let applicationServerKey = try #require(offer.push_key)
                #expect(offer.telegram_link == nil && !offer.email)

                let browser = Browser()
                let followed = try await Self.follow(
                    server,
                    mine.token,
                    #"{"channel":"push","subscription":\#(browser.subscription(endpoint: pushService.url)),"language":"en"}"#
                )
                #expect(followed.status == 201, "\(followed.body)")
                try await eventually { pushService.received.count == 1 }
                let confirmation = try browser.open(pushService.received[0].body)
                #expect(confirmation.body.contains(mine.number) && confirmation.url?.hasSuffix("/t/\(mine.token)") == true)

                // Every push is encrypted (RFC 8291) and carries a VAPID token (RFC 8292) for the push service's origin.
                let request = pushService.received[0]
                #expect(request.headers["Content-Encoding"] == "aes128gcm" && request.headers["TTL"] == "3600")
                let authorization = try #require(request.headers["Authorization"])
                try Self.expectVAPID(authorization, audience: "http://127.0.0.1:\(pushService.port)", key: applicationServerKey)

                // Two ahead: not yet. One ahead after the first call: nearly.
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                try await eventually { pushService.received.count == 2 }
                let near = try browser.open(pushService.received[1].body)
                #expect(near.body.contains("nearly your turn") && near.body.contains("1 ahead"), "\(near.body)")
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                try await eventually { pushService.received.count == 3 }
                let called = try browser.open(pushService.received[2].body)
                // The branch's own text for this kind, filled in.
                #expect(called.body == "\(mine.number): counter 1 please")
                #expect(pushService.received[2].headers["Urgency"] == "high")
                // Only the near alert once, whatever happens after it.
                try await Task.sleep(for: .milliseconds(300))
                #expect(pushService.received.count == 3)

                // Staff see which alerts went out, never where to.
                // (The last one's outcome is written just after the push service answered.)
                try await eventually {
                    let history = try decodeJSON(History.self, try await admin.call(.GET, "/api/v1/tickets/\(mine.id)/history").body)
                    return history.notifications.allSatisfy { $0.state == "delivered" }
                }
                let history = try decodeJSON(History.self, try await admin.call(.GET, "/api/v1/tickets/\(mine.id)/history").body)
                #expect(history.notifications.map(\.kind) == ["following", "near", "called"])
                #expect(history.notifications.allSatisfy { $0.channel == "push" && $0.state == "delivered" })
                #expect(try await admin.audit("action=ticket.followed").count == 1)
            }
        }
    }

    @Test("push: a subscription the push service says is gone ends its alerts; a busy service is retried")
    func pushGoneAndRetried() async throws {
        let clock = ManualClock(nowMs: 1_800_000_000_000)
        try await withWebhookReceiver { pushService in
            try await withTestServer(.sqlite, clock: clock) { server in
                let admin = try await QueueAPITests.setUp(server)
                // No near-turn alerts: first in line, this ticket would be told at once, and only the confirmation is wanted.
                #expect(try await admin.call(.PUT, "/api/v1/branches/1/alerts", json: #"{"push":true,"telegram":true,"email":true,"texts":{}}"#).status == 200)
                let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
                pushService.answer([.fail(status: 429), .fail(status: 410)])
                let browser = Browser()
                let body = #"{"channel":"push","subscription":\#(browser.subscription(endpoint: pushService.url))}"#
                #expect(try await Self.follow(server, ticket.token, body).status == 201)
                try await eventually { pushService.received.count == 1 }
                // Once the attempt is written down, its retry is due thirty seconds of the clock later.
                try await eventually {
                    try decodeJSON(History.self, try await admin.call(.GET, "/api/v1/tickets/\(ticket.id)/history").body).notifications.first?.response_code
                        == 429
                }
                clock.advance(by: .seconds(30))
                try await eventually { pushService.received.count == 2 }
                try await eventually {
                    let history = try decodeJSON(History.self, try await admin.call(.GET, "/api/v1/tickets/\(ticket.id)/history").body)
                    return history.notifications.first?.state == "failed"
                }
                // The operator's call went through regardless.
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
            }
        }
    }

    @Test(
        "e-mail: the confirmation and the call arrive over STARTTLS in the customer's language",
        .enabled(if: SMTPClientTests.smtpd != nil, "needs aiosmtpd and TURNO_TEST_SMTPD, which scripts/test provides")
    )
    func email() async throws {
        try await SMTPClientTests.withServer([]) { smtp in
            let config = TestServer.config([
                "smtpHost": "127.0.0.1", "smtpPort": String(smtp.port), "smtpFrom": "turno@example.test",
                "smtpCa": smtp.certificates.server.certificate, "rateTickets": "off",
            ])
            try await withTestServer(.sqlite, settings: { $0.config = config }) { server in
                let admin = try await QueueAPITests.setUp(server)
                // No near-turn alerts: first in line, the ticket would be told at once, and this test follows the call.
                #expect(try await admin.call(.PUT, "/api/v1/branches/1/alerts", json: #"{"push":true,"telegram":true,"email":true,"texts":{}}"#).status == 200)
                let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
                let offer = try decodeJSON(Offer.self, try await server.request(.GET, "/api/v1/tickets/\(ticket.token)/followers").body)
                #expect(offer.email)
                let refused = try await Self.follow(server, ticket.token, #"{"channel":"email","address":"not an address"}"#)
                #expect(refused.status == 422 && refused.body.contains("e-mail address"))
                let followed = try await Self.follow(server, ticket.token, #"{"channel":"email","address":"mario@example.test","language":"it"}"#)
                #expect(followed.status == 201, "\(followed.body)")
                try await eventually { (try? smtp.received().count) == 1 }
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                try await eventually { (try? smtp.received().count) == 2 }
                let mails = try smtp.received()
                #expect(mails.allSatisfy { $0.envelope.rcpt_tos == ["mario@example.test"] && $0.envelope.tls })
                #expect(mails[0].envelope.body?.contains("Ti avviseremo") == true)
                #expect(mails[1].envelope.body?.contains("è il tuo turno") == true && mails[1].envelope.body?.contains("sportello 1") == true)
                #expect(mails[1].envelope.body?.contains("/t/\(ticket.token)") == true)
                #expect(mails[1].envelope.headers["Content-Language"] == "it")
            }
        }
    }

    @Test("Telegram: /take lists the services, a press issues and follows a ticket, alerts and /status and /cancel answer in the chat")
    func telegram() async throws {
        let clock = ManualClock(nowMs: 1_800_000_000_000)
        try await withFakeTelegram { telegram in
            let config = TestServer.config(["telegramToken": FakeTelegram.defaultToken, "telegramApi": telegram.baseURL, "rateTickets": "off"])
            try await withTestServer(.sqlite, clock: clock, settings: { $0.config = config }) { server in
                let admin = try await QueueAPITests.setUp(server)
                // No near-turn alerts: first in line, the ticket would be told at once, and this test follows the call.
                #expect(try await admin.call(.PUT, "/api/v1/branches/1/alerts", json: #"{"push":true,"telegram":true,"email":true,"texts":{}}"#).status == 200)
                let branch = try await server.publicID(ofBranch: 1)
                let chat: Int64 = 4242
                _ = telegram.pushMessage(chatID: chat, text: "/take", languageCode: "en")
                try await telegram.waitForSent(count: 1, timeout: .seconds(30))
                let services = telegram.sentMessages[0]
                #expect(services.buttons.flatMap { $0 }.map(\.text) == ["Parcels", "Bills"])
                #expect(services.buttons[0][0].callbackData == "t:\(branch):1")
                _ = telegram.pushCallback(chatID: chat, data: "t:\(branch):1")
                try await telegram.waitForSent(count: 3, timeout: .seconds(30))
                #expect(telegram.sentMessages[1].text.hasPrefix("Your ticket is A"))
                #expect(telegram.sentMessages[2].text.contains("You will be told here when ticket A"))

                // An alert the Bot API refuses for a while (429) waits as long as it says, then goes.
                telegram.failNext("sendMessage", times: 1, code: 429, retryAfter: 40)
                #expect(try await admin.call(.POST, "/api/v1/queues/1/call-next").status == 200)
                try await eventually { telegram.attempts("sendMessage") == 4 }
                clock.advance(by: .seconds(30))
                try await Task.sleep(for: .milliseconds(400))
                #expect(telegram.sentMessages.count == 3)
                clock.advance(by: .seconds(10))
                try await telegram.waitForSent(count: 4, timeout: .seconds(30))
                #expect(telegram.sentMessages[3].text.contains("your turn") && telegram.sentMessages[3].text.contains("counter 1"))

                // A second ticket, followed from its page's deep link; /status and /cancel speak of the newest one.
                let other = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
                let offer = try decodeJSON(Offer.self, try await server.request(.GET, "/api/v1/tickets/\(other.token)/followers").body)
                #expect(offer.telegram_link == "https://t.me/turno_test_bot?start=\(other.token)")
                _ = telegram.pushMessage(chatID: chat, text: "/start \(other.token)", languageCode: "it")
                try await telegram.waitForSent(count: 5, timeout: .seconds(30))
                #expect(telegram.sentMessages[4].text.contains("Ti avviseremo qui quando il biglietto \(other.number)"))
                _ = telegram.pushMessage(chatID: chat, text: "/status")
                try await telegram.waitForSent(count: 6, timeout: .seconds(30))
                #expect(telegram.sentMessages[5].text.contains("Ticket \(other.number): 0 ahead"))
                _ = telegram.pushMessage(chatID: chat, text: "/cancel")
                try await telegram.waitForSent(count: 7, timeout: .seconds(30))
                #expect(telegram.sentMessages[6].text == "Ticket \(other.number) cancelled.")
                let shown = try await server.request(.GET, "/api/v1/tickets/\(other.token)")
                #expect(shown.body.contains(#""state":"cancelled""#))
            }
        }
    }

    @Test("Telegram in webhook mode: the bot tells Telegram where to post, and answers updates posted with the secret only")
    func telegramWebhook() async throws {
        try await withFakeTelegram { telegram in
            let config = TestServer.config([
                "telegramToken": FakeTelegram.defaultToken, "telegramApi": telegram.baseURL, "telegramWebhook": "https://turno.example.org",
                "rateTickets": "off",
            ])
            try await withTestServer(.sqlite, settings: { $0.config = config }) { server in
                _ = try await QueueAPITests.setUp(server)
                try await telegram.waitForCalls("setWebhook", count: 1, timeout: .seconds(30))
                #expect(telegram.webhookURL == "https://turno.example.org/api/v1/telegram/webhook")
                let secret = try #require(telegram.calls("setWebhook").first?.json["secret_token"] as? String)
                let update = String(decoding: FakeTelegram.messageUpdate(updateID: 1, messageID: 1, chatID: 77, text: "/take"), as: UTF8.self)
                let refused = try await server.request(
                    .POST,
                    "/api/v1/telegram/webhook",
                    body: update,
                    headers: [("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", "wrong")]
                )
                #expect(refused.status == 404)
                #expect(telegram.sentMessages.isEmpty)
                let taken = try await server.request(
                    .POST,
                    "/api/v1/telegram/webhook",
                    body: update,
                    headers: [("Content-Type", "application/json"), ("X-Telegram-Bot-Api-Secret-Token", secret)]
                )
                #expect(taken.status == 200)
                try await telegram.waitForSent(count: 1, timeout: .seconds(30))
                #expect(telegram.sentMessages[0].chatID == 77 && telegram.sentMessages[0].buttons.count == 2)
                // In webhook mode the server does not poll.
                #expect(telegram.attempts("getUpdates") == 0)
            }
        }
    }

    @Test("bad requests are refused with their reason, and change nothing")
    func badInput() async throws {
        try await withTestServer(.sqlite) { server in
            let admin = try await QueueAPITests.setUp(server)
            let ticket = try #require(try await QueueAPITests.issue(server, service: 1).ticket)
            let browser = Browser()
            let cases: [(String, Int, String)] = [
                (#"{"channel":"push"}"#, 422, "subscription"),
                (#"{"channel":"push","subscription":{"endpoint":"ftp://x/y","keys":{"p256dh":"AAAA","auth":"AAAA"}}}"#, 422, "push subscription"),
                (#"{"channel":"push","subscription":\#(browser.subscription(endpoint: "http://example.org/push"))}"#, 422, "https"),
                (#"{"channel":"email","address":"a@b.org"}"#, 409, "not set up"),
                (#"{"channel":"telegram"}"#, 422, "Telegram"),
                (#"{"channel":"pigeon"}"#, 400, "channel"),
            ]
            for (body, status, fragment) in cases {
                let response = try await Self.follow(server, ticket.token, body)
                #expect(response.status == status && response.body.contains(fragment), "\(body) → \(response.status) \(response.body)")
            }
            #expect(try await Self.follow(server, "no-such-ticket", #"{"channel":"email","address":"a@b.org"}"#).status == 404)
            #expect(try await server.request(.DELETE, "/api/v1/tickets/\(ticket.token)/followers/99").status == 404)
            for (settings, fragment) in [
                (#"{"near_ahead":0,"push":true,"telegram":true,"email":true,"texts":{}}"#, "near_ahead"),
                (#"{"near_minutes":1000,"push":true,"telegram":true,"email":true,"texts":{}}"#, "near_minutes"),
                (#"{"push":true,"telegram":true,"email":true,"texts":{"fr":{"near":"x"}}}"#, "fr"),
                (#"{"push":true,"telegram":true,"email":true,"texts":{"en":{"soon":"x"}}}"#, "soon"),
            ] {
                let response = try await admin.call(.PUT, "/api/v1/branches/1/alerts", json: settings)
                #expect(response.status == 422 && response.body.contains(fragment), "\(settings) → \(response.body)")
            }
            // A branch that switched push off offers no key and refuses subscriptions.
            #expect(try await admin.call(.PUT, "/api/v1/branches/1/alerts", json: #"{"push":false,"telegram":true,"email":true,"texts":{}}"#).status == 200)
            let offer = try decodeJSON(Offer.self, try await server.request(.GET, "/api/v1/tickets/\(ticket.token)/followers").body)
            #expect(offer.push_key == nil && offer.items.isEmpty)
            let off = try await Self.follow(
                server,
                ticket.token,
                #"{"channel":"push","subscription":\#(browser.subscription(endpoint: "http://127.0.0.1:9/p"))}"#
            )
            #expect(off.status == 409 && off.body.contains("does not send"))
            #expect(try await admin.audit("action=ticket.followed").isEmpty)
            #expect(try await admin.audit("action=branch.alerts_changed").count == 1)
        }
    }

    /// Checks a VAPID `Authorization` header: its ES256 token verifies with the key `k` the page subscribed with.
    static func expectVAPID(_ header: String, audience: String, key: String) throws {
        #expect(header.hasPrefix("vapid t="))
        let parts = header.dropFirst("vapid ".count).components(separatedBy: ", ")
        let token = try #require(parts.first { $0.hasPrefix("t=") }?.dropFirst(2))
        #expect(parts.contains("k=\(key)"))
        let pieces = token.split(separator: ".").map(String.init)
        try #require(pieces.count == 3)
        let publicKey = try P256.Signing.PublicKey(x963Representation: try #require(Data(base64URL: key)))
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: try #require(Data(base64URL: pieces[2])))
        #expect(publicKey.isValidSignature(signature, for: Data("\(pieces[0]).\(pieces[1])".utf8)))
        struct Claims: Decodable {
            let aud: String
            let exp: Int64
            let sub: String
        }
        let claims = try JSONDecoder().decode(Claims.self, from: try #require(Data(base64URL: pieces[1])))
        #expect(claims.aud == audience && claims.sub.hasPrefix("mailto:"))
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}

/// A browser's decryption of a push message (RFC 8291 `aes128gcm`, one record), written apart from the server's code.
func decryptPush(_ body: Data, userPrivateKey: P256.KeyAgreement.PrivateKey, authSecret: Data) throws -> Data {
    struct Undecryptable: Error {}
    let bytes = [UInt8](body)
    guard bytes.count >= 21 else { throw Undecryptable() }
    let salt = Data(bytes[0..<16])
    let idLength = Int(bytes[20])
    guard bytes.count >= 21 + idLength + 17 else { throw Undecryptable() }
    let serverPublic = Data(bytes[21..<(21 + idLength)])
    let record = Data(bytes[(21 + idLength)...])
    let shared = try userPrivateKey.sharedSecretFromKeyAgreement(with: try P256.KeyAgreement.PublicKey(x963Representation: serverPublic))
    let keyInfo = Data("WebPush: info\u{0}".utf8) + userPrivateKey.publicKey.x963Representation + serverPublic
    let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: authSecret, sharedInfo: keyInfo, outputByteCount: 32)
    let cek = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: aes128gcm\u{0}".utf8), outputByteCount: 16)
    let nonce = HKDF<SHA256>.deriveKey(inputKeyMaterial: ikm, salt: salt, info: Data("Content-Encoding: nonce\u{0}".utf8), outputByteCount: 12)
    let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }), ciphertext: record.dropLast(16), tag: record.suffix(16))
    var padded = [UInt8](try AES.GCM.open(box, using: cek))
    while padded.last == 0 { padded.removeLast() }
    guard padded.last == 0x02 else { throw Undecryptable() }
    padded.removeLast()
    return Data(padded)
}
