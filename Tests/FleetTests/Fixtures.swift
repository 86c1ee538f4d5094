import Foundation

@testable import Fleet

/// The domain's seeded generator, so a failing property run can be replayed from its seed.
typealias SeededRandom = RandomFleet.Generator

enum Fixture {
    /// When the fixtures' deliveries are created, in milliseconds since 1970 (UTC).
    static let startMs: Int64 = 1_750_000_000_000

    static func drone(_ id: String, _ type: DroneType = .medium, at position: Point, battery: Double = 100, state: DroneState = .idle) -> Drone {
        Drone(id: id, type: type, position: position, battery: battery, state: state)
    }

    static func delivery(
        _ number: Int,
        from origin: Point,
        to destination: Point,
        weightKg: Double = 1,
        priority: Int = 0,
        createdAtMs: Int64 = startMs
    ) -> Delivery {
        Delivery(id: uuid(number), origin: origin, destination: destination, weightKg: weightKg, priority: priority, createdAtMs: createdAtMs)
    }

    /// A readable, deterministic id: 00000000-0000-0000-0000-000000000007.
    static func uuid(_ number: Int) -> UUID {
        let digits = String(number)
        return UUID(uuidString: "00000000-0000-0000-0000-" + String(repeating: "0", count: 12 - digits.count) + digits)!
    }

    static func randomPoint(in bounds: Bounds = FleetMap.standard.bounds, using random: inout SeededRandom) -> Point {
        Point(x: Double.random(in: bounds.minX...bounds.maxX, using: &random), y: Double.random(in: bounds.minY...bounds.maxY, using: &random))
    }

    /// Idle drones spread over the standard map, of every type, with batteries between 30 and 100 %.
    static func randomDrones(_ count: Int, using random: inout SeededRandom) -> [Drone] {
        (0..<count).map { index in
            drone(
                "d-\(index)",
                DroneType.allCases.randomElement(using: &random)!,
                at: randomPoint(using: &random),
                battery: Double.random(in: 30...100, using: &random)
            )
        }
    }

    /// Pending deliveries over the standard map, 0.2 to 20 kg, priorities 0 to 9, created a second apart.
    static func randomDeliveries(_ count: Int, priorities: ClosedRange<Int> = 0...9, using random: inout SeededRandom) -> [Delivery] {
        (0..<count).map { index in
            delivery(
                index,
                from: randomPoint(using: &random),
                to: randomPoint(using: &random),
                weightKg: Double.random(in: 0.2...20, using: &random),
                priority: Int.random(in: priorities, using: &random),
                createdAtMs: startMs + Int64(index) * 1000
            )
        }
    }
}
