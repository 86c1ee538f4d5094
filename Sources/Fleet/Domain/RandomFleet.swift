import Foundation

/// Reproducible random fleets and orders, for benchmarks, load generators and demonstrations: the same seed gives
/// the same drones and deliveries on every machine.
public enum RandomFleet {
    /// SplitMix64: small, fast and good enough to spread points over a map.
    public struct Generator: RandomNumberGenerator, Sendable {
        var state: UInt64

        public init(seed: UInt64) {
            state = seed &+ 0x9E37_79B9_7F4A_7C15
        }

        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public static func point(in bounds: Bounds, using random: inout some RandomNumberGenerator) -> Point {
        Point(x: Double.random(in: bounds.minX...bounds.maxX, using: &random), y: Double.random(in: bounds.minY...bounds.maxY, using: &random))
    }

    /// Idle drones of every type spread uniformly over the map, with 30 to 100 % of battery.
    public static func drones(_ count: Int, on map: FleetMap, prefix: String = "d-", using random: inout some RandomNumberGenerator) -> [Drone] {
        (0..<count).map { index in
            Drone(
                id: "\(prefix)\(index)",
                type: DroneType.allCases.randomElement(using: &random)!,
                position: point(in: map.bounds, using: &random),
                battery: Double.random(in: 30...100, using: &random),
                state: .idle
            )
        }
    }

    /// Pending deliveries between random points of the map, 0.2 to 20 kg, priorities in `priorities`, one a second
    /// from `startMs` (milliseconds since 1970, UTC).
    public static func deliveries(
        _ count: Int,
        on map: FleetMap,
        priorities: ClosedRange<Int> = 0...9,
        startMs: Int64,
        using random: inout some RandomNumberGenerator
    ) -> [Delivery] {
        (0..<count).map { index in
            var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes[6] = bytes[6] & 0x0F | 0x40
            bytes[8] = bytes[8] & 0x3F | 0x80
            let id = UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                    bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                )
            )
            return Delivery(
                id: id,
                origin: point(in: map.bounds, using: &random),
                destination: point(in: map.bounds, using: &random),
                weightKg: Double.random(in: 0.2...20, using: &random),
                priority: Int.random(in: priorities, using: &random),
                createdAtMs: startMs + Int64(index) * 1000
            )
        }
    }
}
