import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TurnoCore

/// A local HTTP server that stands for an organization's system behind a webhook: it keeps every request it gets,
/// with when it got it, and answers as the test says: 204, a failure status, or never (to leave a sender hanging).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: Data
        var atMs: Int64
    }

    enum Answer: Sendable {
        case accept
        case fail(status: Int)
        /// Holds the request until the test lets go.
        case hang
    }

    private struct State {
        var received: [Received] = []
        /// Answers for the next requests, in order; `standing` after them.
        var next: [Answer] = []
        var standing: Answer = .accept
        var released = false
    }

    private let state = Mutex(State())
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var received: [Received] { state.withLock { $0.received } }

    /// Answers the next requests with `answers`, then with `standing`.
    func answer(_ answers: [Answer] = [], thenAlways standing: Answer = .accept) {
        state.withLock {
            $0.next = answers
            $0.standing = standing
        }
    }

    /// Lets held requests end (with 204).
    func release() {
        state.withLock { $0.released = true }
    }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    static func start() async throws -> WebhookReceiver {
        let router = Router()
        let box = Mutex<WebhookReceiver?>(nil)
        router.post("/**") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let receiver = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return await receiver.take(request, body: Data(buffer: body))
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .warning
        let app = try await LoopbackApp.start(router, name: "WebhookReceiver", logger: logger)
        let receiver = WebhookReceiver(port: app.port, group: app.group, task: app.task)
        box.withLock { $0 = receiver }
        return receiver
    }

    private func take(_ request: Request, body: Data) async -> Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.rawName] = field.value }
        let answer = state.withLock { state in
            state.received.append(Received(path: request.uri.path, headers: headers, body: body, atMs: Date().milliseconds))
            return state.next.isEmpty ? state.standing : state.next.removeFirst()
        }
        switch answer {
        case .accept:
            return Response(status: .noContent)
        case .fail(let status):
            return Response(status: .init(code: status))
        case .hang:
            while !state.withLock({ $0.released }), (try? await Task.sleep(for: .milliseconds(20))) != nil {}
            return Response(status: .noContent)
        }
    }

    func stop() async {
        release()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// Runs `body` with a webhook receiver, stopped afterwards.
func withWebhookReceiver<T>(_ body: (WebhookReceiver) async throws -> T) async throws -> T {
    let receiver = try await WebhookReceiver.start()
    do {
        let result = try await body(receiver)
        await receiver.stop()
        return result
    } catch {
        await receiver.stop()
        throw error
    }
}
