import Foundation
import Logging
import ServiceLifecycle
import TurnoCore

/// Once a second, on every node, pushes `drone.positions` (the drones that moved since the last push) to this node's
/// followers of `fleet:{organization}`. Moves are not events (10,000 drones would flood the log), so each node reads
/// them back from the database, and only for the organizations somebody here is watching.
struct DronePositions: Service {
    let store: FleetStore
    let hub: LiveHub
    let logger: Logger
    let clock: any ServerClock
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var pushedUpTo: [Int64: Int64] = [:]
            while !Task.isCancelled {
                try? await clock.sleep(for: interval)
                for topic in await hub.followedTopics(prefix: "fleet:") {
                    guard let organizationID = Int64(topic.dropFirst("fleet:".count)) else { continue }
                    // A little overlap, so that a move written during the last read is never skipped.
                    let now = clock.nowMilliseconds()
                    let since = pushedUpTo[organizationID] ?? now - 2_000
                    do {
                        let moved = try await store.dronesMoved(of: organizationID, sinceMs: since - 1_000)
                        pushedUpTo[organizationID] = now
                        guard !moved.isEmpty else { continue }
                        await hub.push(try Self.message(moved, topic: topic, id: await hub.latestSequence, timeMs: now), to: topic)
                    } catch {
                        logger.warning("cannot read drone positions", metadata: ["error": "\(loggable(error))"])
                    }
                }
            }
        }
    }

    /// One drone's place on the map, as the page draws it.
    struct Position: Encodable {
        var id: String
        var x: Double
        var y: Double
        var battery: Double
        var state: DroneState
        var tx: Double?
        var ty: Double?
    }

    struct Positions: Encodable {
        var at: Date
        var drones: [Position]
    }

    static func message(_ drones: [Drone], topic: String, id: Int64, timeMs: Int64) throws -> LiveMessage {
        let positions = Positions(
            at: Date(milliseconds: timeMs),
            drones: drones.map {
                Position(
                    id: $0.id,
                    x: ($0.position.x * 10).rounded() / 10,
                    y: ($0.position.y * 10).rounded() / 10,
                    battery: ($0.battery * 10).rounded() / 10,
                    state: $0.state,
                    tx: $0.target?.x,
                    ty: $0.target?.y
                )
            }
        )
        return try .pushed(id: id, type: "drone.positions", topic: topic, timeMs: timeMs, data: positions)
    }
}
