import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TurnoCore

/// How a channel's alerts leave the server.
enum AlertTransport: Sendable {
    /// Web Push: encrypted for the subscription (RFC 8291), authorized with the server's VAPID key (RFC 8292).
    case push(client: HTTPClient, key: VAPIDKey, contact: String)
    case email(SMTPClient)
    case telegram(TelegramBotAPI)
}

/// Sends the alerts of one channel to ticket followers, in each follower's language and with the branch's own
/// texts. A follower erased since (with its ticket) or a subscription the push service says is gone ends the
/// notification; a receiver that is down or busy makes it wait for its next attempt.
struct TicketAlertSender: NotificationSender {
    let store: QueueStore
    let followers: FollowerStore
    let transport: AlertTransport
    let logger: Logger
    /// Sends in flight at once.
    let concurrency = 32

    func send(_ notifications: [PendingNotification], nowMs: Int64) async -> [Int64: NotificationOutcome] {
        let known: [Int64: TicketFollower]
        do {
            known = try await followers.followers(Array(Set(notifications.map(\.targetID))))
        } catch {
            return Dictionary(
                uniqueKeysWithValues: notifications.map { ($0.id, .retry(error: "cannot read the followers: \(loggable(error))", code: nil, latencyMs: nil)) }
            )
        }
        return await each(notifications, limit: concurrency) { notification in
            guard let follower = known[notification.targetID] else {
                return .cancelled(reason: "the follower is no longer there (erased with the ticket, or stopped)")
            }
            do {
                let message = try await message(for: notification, to: follower)
                return await deliver(message, notification: notification, to: follower, nowMs: nowMs)
            } catch {
                return .retry(error: "cannot write the alert: \(loggable(error))", code: nil, latencyMs: nil)
            }
        }
    }

    /// An alert's words and the link back to the ticket's page.
    struct Message: Sendable {
        var title: String
        var text: String
        var link: String?
        var kind: AlertKind
    }

    func message(for notification: PendingNotification, to follower: TicketFollower) async throws -> Message {
        let kind = AlertKind(rawValue: notification.kind) ?? .following
        let ticket = try await store.ticket(id: follower.ticketID)
        let (branch, settings) = try await store.storage.read { sql in
            (try await store.branch(follower.branchID, sql: sql), try await followers.settings(of: follower.branchID, sql: sql))
        }
        var values: AlertTexts.Values
        if let detail = notification.detail, let given = try? JSONCoding.decoder.decode(AlertTexts.Values.self, from: Data(detail.utf8)) {
            values = given
        } else {
            let service = try await store.services(of: follower.branchID).first { $0.id == ticket?.serviceID }
            values = AlertTexts.Values(number: ticket?.number.description ?? "", service: service?.name ?? "", branch: branch?.name ?? "")
        }
        if values.branch.isEmpty { values.branch = branch?.name ?? "" }
        let text = AlertTexts.builtIn.text(kind, language: follower.language, values: values, branchTexts: settings.texts)
        // An erased ticket has no page any more.
        let link = ticket.flatMap { $0.token.hasPrefix("erased-") ? nil : "\(follower.origin)/t/\($0.token)" }
        return Message(title: "\(values.number) · \(values.branch)", text: text, link: link, kind: kind)
    }

    private func deliver(_ message: Message, notification: PendingNotification, to follower: TicketFollower, nowMs: Int64) async -> NotificationOutcome {
        let started = ContinuousClock.now
        func latency() -> Int { Int((ContinuousClock.now - started) / .milliseconds(1)) }
        switch transport {
        case .push(let client, let key, let contact):
            return await push(message, to: follower, client: client, key: key, contact: contact, nowMs: nowMs, started: started)
        case .email(let smtp):
            let body = message.text + (message.link.map { "\n\n" + $0 } ?? "")
            let email = EmailMessage(
                to: follower.address,
                subject: message.title,
                text: body,
                messageID: "alert-\(notification.id)@turno",
                language: follower.language
            )
            do {
                try await smtp.send(email, nowMs: nowMs)
                return .delivered(code: 250, latencyMs: latency())
            } catch let error as SMTPError {
                return error.isPermanent
                    ? .failed(error: error.description, code: error.code) : .retry(error: error.description, code: error.code, latencyMs: latency())
            } catch {
                return .retry(error: loggable(error), code: nil, latencyMs: latency())
            }
        case .telegram(let bot):
            guard let chat = Int64(follower.address) else { return .failed(error: "not a Telegram chat", code: nil) }
            do {
                _ = try await bot.sendMessage(chatID: chat, text: message.text + (message.link.map { "\n" + $0 } ?? ""))
                return .delivered(code: 200, latencyMs: latency())
            } catch let error as TelegramError {
                if error.isPermanent { return .failed(error: error.description, code: error.code) }
                let notBefore = error.retryAfterSeconds.map { nowMs + Int64($0) * 1000 }
                return .retry(error: error.description, code: error.code, latencyMs: latency(), notBeforeMs: notBefore)
            } catch {
                return .retry(error: loggable(error), code: nil, latencyMs: latency())
            }
        }
    }

    /// What the service worker shows: `{title, body, url, tag}`.
    private struct PushPayload: Encodable {
        var title: String
        var body: String
        var url: String?
        var tag: String
    }

    private func push(
        _ message: Message,
        to follower: TicketFollower,
        client: HTTPClient,
        key: VAPIDKey,
        contact: String,
        nowMs: Int64,
        started: ContinuousClock.Instant
    ) async -> NotificationOutcome {
        func latency() -> Int { Int((ContinuousClock.now - started) / .milliseconds(1)) }
        guard let subscription = try? JSONCoding.decoder.decode(PushSubscription.self, from: Data(follower.address.utf8)),
            let (endpoint, userKey, authSecret) = try? subscription.validated()
        else { return .failed(error: "the stored push subscription cannot be used", code: nil) }
        do {
            let payload = try JSONCoding.encoder.encode(
                PushPayload(title: message.title, body: message.text, url: message.link, tag: "ticket-\(follower.ticketID)")
            )
            var request = HTTPClientRequest(url: endpoint.absoluteString)
            request.method = .POST
            request.headers.add(name: "Authorization", value: try key.authorization(for: endpoint.absoluteString, subject: contact, nowMs: nowMs))
            request.headers.add(name: "Content-Encoding", value: "aes128gcm")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            // An alert an hour late is no use; being called is urgent, the rest is not.
            request.headers.add(name: "TTL", value: "3600")
            request.headers.add(name: "Urgency", value: message.kind == .called || message.kind == .recalled ? "high" : "normal")
            request.body = .bytes(ByteBuffer(data: try WebPushEncryption.encrypt(payload, userKey: userKey, authSecret: authSecret)))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 16 * 1024)
            let code = Int(response.status.code)
            switch code {
            case 200..<300: return .delivered(code: code, latencyMs: latency())
            // The subscription expired or was withdrawn (RFC 8030 §7.3): it will never work again.
            case 404, 410: return .failed(error: "the push service says the subscription is gone", code: code)
            case 429, 500...: return .retry(error: "the push service answered \(code)", code: code, latencyMs: latency())
            default: return .failed(error: "the push service refused the message with \(code)", code: code)
            }
        } catch {
            return .retry(error: "cannot reach the push service: \(loggable(error))", code: nil, latencyMs: latency())
        }
    }
}
