import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird app serving `router` on a free loopback port, for the local stand-ins of other systems (a webhook
/// receiver, the Telegram Bot API): its port, and the service group and task to stop it with.
struct LoopbackApp: Sendable {
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    struct DidNotStart: Error, CustomStringConvertible {
        let name: String
        var description: String { "the local \(name) server did not start" }
    }

    static func start(_ router: Router<BasicRequestContext>, name: String, logger: Logger) async throws -> LoopbackApp {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: name),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port != 0 else {
            task.cancel()
            throw DidNotStart(name: name)
        }
        return LoopbackApp(port: port, group: group, task: task)
    }
}
