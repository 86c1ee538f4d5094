import Foundation

/// A position on the city's local plane, in metres. `x` grows eastwards and `y` grows northwards, so the
/// northern edge of the map has the highest `y`.
public struct Point: Codable, Sendable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// Straight-line distance in metres: drones fly as the crow flies.
    @inlinable
    public func distance(to other: Point) -> Double {
        let dx = other.x - x
        let dy = other.y - y
        return (dx * dx + dy * dy).squareRoot()
    }

    /// The point `metres` further along the straight line to `target`; `target` itself when it is that close or closer,
    /// so a long step never flies past it.
    public func moved(toward target: Point, by metres: Double) -> Point {
        let remaining = distance(to: target)
        guard metres < remaining else { return target }
        guard metres > 0 else { return self }
        let fraction = metres / remaining
        return Point(x: x + (target.x - x) * fraction, y: y + (target.y - y) * fraction)
    }

    /// Both coordinates are ordinary numbers (not NaN or infinite).
    public var isFinite: Bool { x.isFinite && y.isFinite }
}

/// An axis-aligned rectangle on the plane, edges included.
public struct Bounds: Codable, Sendable, Hashable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    public func contains(_ point: Point) -> Bool {
        point.x >= minX && point.x <= maxX && point.y >= minY && point.y <= maxY
    }

    public var center: Point { Point(x: (minX + maxX) / 2, y: (minY + maxY) / 2) }
    public var width: Double { maxX - minX }
    public var height: Double { maxY - minY }
}

/// A named district of the map, for people: where a delivery starts or ends, how busy each part of town is.
public struct Zone: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var name: String
    public var bounds: Bounds

    public init(id: String, name: String, bounds: Bounds) {
        self.id = id
        self.name = name
        self.bounds = bounds
    }
}

/// A hub where drones land, charge and are parked. Each pad holds one charging drone.
public struct ChargingPoint: Codable, Sendable, Hashable, Identifiable {
    public var id: String
    public var name: String
    public var position: Point
    public var pads: Int

    public init(id: String, name: String, position: Point, pads: Int) {
        self.id = id
        self.name = name
        self.position = position
        self.pads = pads
    }
}

/// The city the fleet flies over: its extent, its zones and its charging points.
public struct FleetMap: Codable, Sendable, Hashable {
    public var bounds: Bounds
    public var zones: [Zone]
    public var chargingPoints: [ChargingPoint]

    public init(bounds: Bounds, zones: [Zone], chargingPoints: [ChargingPoint]) {
        self.bounds = bounds
        self.zones = zones
        self.chargingPoints = chargingPoints
    }

    /// The charging point closest to `point`, whether or not it has a free pad; nil only on a map without any.
    public func nearestChargingPoint(to point: Point) -> ChargingPoint? {
        nearestChargingPointIndex(to: point).map { chargingPoints[$0] }
    }

    /// The charging point closest to `point` among those with a pad to spare, given how many pads of each point
    /// (by id) are taken or promised. Nil when every pad is taken: whether to queue at the nearest point anyway is
    /// the caller's choice.
    public func nearestChargingPoint(to point: Point, withFreePadGiven padsInUse: [String: Int]) -> ChargingPoint? {
        var best: ChargingPoint?
        var bestDistance = Double.infinity
        for chargingPoint in chargingPoints where padsInUse[chargingPoint.id, default: 0] < chargingPoint.pads {
            let distance = point.distance(to: chargingPoint.position)
            if distance < bestDistance {
                best = chargingPoint
                bestDistance = distance
            }
        }
        return best
    }

    /// The first zone whose bounds contain `point` (points on a shared edge belong to the zone listed first).
    public func zone(containing point: Point) -> Zone? {
        zones.first { $0.bounds.contains(point) }
    }

    func nearestChargingPointIndex(to point: Point) -> Int? {
        var best: Int?
        var bestDistance = Double.infinity
        for index in chargingPoints.indices {
            let distance = point.distance(to: chargingPoints[index].position)
            if distance < bestDistance {
                best = index
                bestDistance = distance
            }
        }
        return best
    }

    /// A 10 km × 10 km city, `x` and `y` from 0 to 10,000 m, cut into a 3 × 3 grid of zones named by compass
    /// direction (north is high `y`), with a 40-pad charging hub at the centre of each zone.
    public static let standard: FleetMap = {
        let side = 10_000.0
        // Grid lines from the low edge to the high edge of either axis.
        let edges = [0, side / 3, side * 2 / 3, side]
        // Rows from north (high y) to south, columns from west (low x) to east.
        let rows = [("north", "North"), ("", ""), ("south", "South")]
        let columns = [("west", "West"), ("", ""), ("east", "East")]
        var zones: [Zone] = []
        var chargingPoints: [ChargingPoint] = []
        for (row, (rowID, rowName)) in rows.enumerated() {
            for (column, (columnID, columnName)) in columns.enumerated() {
                let id = [rowID, columnID].filter { !$0.isEmpty }.joined(separator: "-")
                let name = [rowName, columnName].filter { !$0.isEmpty }.joined(separator: "-")
                let bounds = Bounds(minX: edges[column], minY: edges[2 - row], maxX: edges[column + 1], maxY: edges[3 - row])
                let zone = Zone(id: id.isEmpty ? "centre" : id, name: name.isEmpty ? "Centre" : name, bounds: bounds)
                zones.append(zone)
                chargingPoints.append(ChargingPoint(id: "cp-\(zone.id)", name: "\(zone.name) hub", position: bounds.center, pads: 40))
            }
        }
        return FleetMap(bounds: Bounds(minX: 0, minY: 0, maxX: side, maxY: side), zones: zones, chargingPoints: chargingPoints)
    }()
}
