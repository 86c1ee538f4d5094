import Foundation

/// A drone chosen for a delivery.
public struct Assignment: Sendable, Hashable {
    public var deliveryID: UUID
    public var droneID: String
    /// How long the drone takes to reach the delivery's origin.
    public var pickUpSeconds: Double

    public init(deliveryID: UUID, droneID: String, pickUpSeconds: Double) {
        self.deliveryID = deliveryID
        self.droneID = droneID
        self.pickUpSeconds = pickUpSeconds
    }
}

/// Which idle drone takes which pending delivery.
///
/// Both planners only pair a delivery with a drone that ``feasibility(of:for:map:rules:)`` accepts, never use a
/// drone twice, and serve priorities in tiers: all deliveries of the highest priority first, and each lower
/// priority gets the drones the higher ones left. Deliveries that are not `pending` and drones that are not `idle`
/// are ignored; ids are assumed unique.
public enum Dispatch {
    /// The best plan: within each priority tier, as many deliveries as possible get a drone and, among the plans
    /// that serve that many, the total time for the drones to reach their parcels is the least.
    ///
    /// On a large fleet each delivery only considers its `rules.candidatesPerDelivery` candidates quickest to reach
    /// its origin (found through a grid over the drones), so the tier's matching is optimal over that pruned graph;
    /// it is solved exactly as a sparse rectangular assignment (shortest augmenting paths with Dijkstra and dual
    /// potentials, one private "unserved" column per delivery so that leaving a delivery out is an option that
    /// costs more than any set of pick-ups). When demand is concentrated (every delivery of a tier sharing the same
    /// few candidates), deliveries the pruned matching leaves out then take, in order, the quickest feasible drone
    /// still free, so pruning never strands a delivery that a free drone could serve. With enough candidates that
    /// nothing is pruned the plan is the exact optimum.
    public static func optimal(pending: [Delivery], drones: [Drone], map: FleetMap, rules: FleetRules) -> [Assignment] {
        var planner = DispatchPlanner(pending: pending, drones: drones, map: map, rules: rules)
        return planner.optimal(candidatesPerDelivery: max(1, rules.candidatesPerDelivery))
    }

    /// The simple plan, for comparison and as a fallback: deliveries in priority order, then oldest first, each
    /// take the feasible drone still free that reaches their origin soonest.
    public static func greedy(pending: [Delivery], drones: [Drone], map: FleetMap, rules: FleetRules) -> [Assignment] {
        var planner = DispatchPlanner(pending: pending, drones: drones, map: map, rules: rules)
        return planner.greedy()
    }

    /// The sum of the pick-up times: what ``optimal(pending:drones:map:rules:)`` minimises within a tier.
    public static func totalPickUpSeconds(_ assignments: [Assignment]) -> Double {
        assignments.reduce(0) { $0 + $1.pickUpSeconds }
    }
}

extension DroneType {
    /// Position in `allCases`, for the flat per-type tables of the hot loops.
    var ordinal: Int {
        switch self {
        case .light: 0
        case .medium: 1
        case .heavy: 2
        }
    }
}

/// A delivery as the planners see it: where the drone must go and the battery the rest of the trip takes, per type.
struct DispatchRequest {
    let deliveryIndex: Int
    let origin: Point
    /// Percent of battery for the loaded leg, the way to a hub and the reserve, by type ordinal; infinite for a type
    /// that cannot lift the parcel.
    let tripPercent: SIMD3<Double>
    /// The highest cruise speed among the types that can lift it: bounds how soon a drone in a far cell could arrive.
    let fastestSpeed: Double
}

/// A drone that could serve a request, and how soon it reaches the origin.
struct DispatchCandidate {
    var seconds: Double
    var slot: Int
}

/// The dispatchable drones (idle, with a finite battery and position and a specified type) bucketed in a uniform
/// grid of about two drones per cell, so that a delivery finds its quickest candidates by scanning rings of cells
/// outwards from its origin and stopping once no farther cell could hold anything quicker.
struct DroneGrid {
    /// Per type ordinal; nil for a type without specification (such drones are never in the grid).
    let specifications: [DroneSpecification?]
    // Per slot, slots ordered by cell so that a cell's drones sit next to each other in memory.
    private(set) var x: [Double] = []
    private(set) var y: [Double] = []
    private(set) var battery: [Double] = []
    private(set) var kind: [Int] = []
    private(set) var droneIndex: [Int] = []
    /// Slots of cell `c` are `cellStart[c] ..< cellStart[c + 1]`.
    private var cellStart: [Int] = [0]
    private var minX = 0.0
    private var minY = 0.0
    private var cellSize = 1.0
    private var columns = 1
    private var rows = 1

    var count: Int { droneIndex.count }

    init(drones: [Drone], rules: FleetRules) {
        let specifications = DroneType.allCases.map { rules.specifications[$0] }
        self.specifications = specifications
        let eligible = drones.indices.filter { index in
            let drone = drones[index]
            return drone.state == .idle && drone.battery.isFinite && drone.position.isFinite && specifications[drone.type.ordinal] != nil
        }
        guard !eligible.isEmpty else { return }
        var lowX = Double.infinity
        var lowY = Double.infinity
        var highX = -Double.infinity
        var highY = -Double.infinity
        for index in eligible {
            let position = drones[index].position
            lowX = min(lowX, position.x)
            lowY = min(lowY, position.y)
            highX = max(highX, position.x)
            highY = max(highY, position.y)
        }
        let width = max(highX - lowX, 1)
        let height = max(highY - lowY, 1)
        // About two drones a cell, but never more than 1,024 cells a side, however far apart the positions are.
        cellSize = max((width * height * 2 / Double(eligible.count)).squareRoot(), width / 1_024, height / 1_024, 1)
        columns = Int(width / cellSize) + 1
        rows = Int(height / cellSize) + 1
        minX = lowX
        minY = lowY
        // Counting sort of the drones by cell.
        let cells = eligible.map { cell(of: drones[$0].position) }
        var start = [Int](repeating: 0, count: columns * rows + 1)
        for cell in cells { start[cell + 1] += 1 }
        for cell in 0..<(columns * rows) { start[cell + 1] += start[cell] }
        cellStart = start
        let slotCount = eligible.count
        x = [Double](repeating: 0, count: slotCount)
        y = x
        battery = x
        kind = [Int](repeating: 0, count: slotCount)
        droneIndex = kind
        for (order, index) in eligible.enumerated() {
            let slot = start[cells[order]]
            start[cells[order]] += 1
            let drone = drones[index]
            x[slot] = drone.position.x
            y[slot] = drone.position.y
            battery[slot] = drone.battery
            kind[slot] = drone.type.ordinal
            droneIndex[slot] = index
        }
    }

    private func column(of value: Double) -> Int {
        Int(min(max((value - minX) / cellSize, 0), Double(columns - 1)))
    }

    private func row(of value: Double) -> Int {
        Int(min(max((value - minY) / cellSize, 0), Double(rows - 1)))
    }

    private func cell(of point: Point) -> Int {
        row(of: point.y) * columns + column(of: point.x)
    }

    /// The `limit` drones quickest to reach the request's origin among those not `taken` and feasible for it,
    /// quickest first (ties by slot), written into `found`.
    func quickest(for request: DispatchRequest, limit: Int, taken: [Bool], into found: inout [DispatchCandidate]) {
        found.removeAll(keepingCapacity: true)
        guard count > 0, request.fastestSpeed > 0 else { return }
        let centreColumn = column(of: request.origin.x)
        let centreRow = row(of: request.origin.y)
        let lastRing = max(centreColumn, columns - 1 - centreColumn, centreRow, rows - 1 - centreRow)
        for ring in 0...lastRing {
            // Every cell of this ring lies at least (ring - 1) cells from the origin, even for an origin off the
            // grid (it is clamped to the nearest cell): nothing here can beat a full list that is already quicker.
            if ring > 0, found.count == limit, found[limit - 1].seconds <= Double(ring - 1) * cellSize / request.fastestSpeed { return }
            guard ring > 0 else {
                scan(cell: centreRow * columns + centreColumn, for: request, limit: limit, taken: taken, into: &found)
                continue
            }
            let lowRow = centreRow - ring
            let highRow = centreRow + ring
            let lowColumn = max(centreColumn - ring, 0)
            let highColumn = min(centreColumn + ring, columns - 1)
            if lowRow >= 0 {
                for column in lowColumn...highColumn { scan(cell: lowRow * columns + column, for: request, limit: limit, taken: taken, into: &found) }
            }
            if highRow < rows {
                for column in lowColumn...highColumn { scan(cell: highRow * columns + column, for: request, limit: limit, taken: taken, into: &found) }
            }
            let innerLow = max(lowRow + 1, 0)
            let innerHigh = min(highRow - 1, rows - 1)
            guard innerLow <= innerHigh else { continue }
            if centreColumn - ring >= 0 {
                for row in innerLow...innerHigh { scan(cell: row * columns + centreColumn - ring, for: request, limit: limit, taken: taken, into: &found) }
            }
            if centreColumn + ring < columns {
                for row in innerLow...innerHigh { scan(cell: row * columns + centreColumn + ring, for: request, limit: limit, taken: taken, into: &found) }
            }
        }
    }

    @inline(__always)
    private func scan(cell: Int, for request: DispatchRequest, limit: Int, taken: [Bool], into found: inout [DispatchCandidate]) {
        for slot in cellStart[cell]..<cellStart[cell + 1] where !taken[slot] {
            let type = kind[slot]
            let tripPercent = request.tripPercent[type]
            guard tripPercent.isFinite, let specification = specifications[type] else { continue }
            // The same arithmetic as `feasibility(of:for:map:rules:)`, so both always agree.
            let metres = Point(x: x[slot], y: y[slot]).distance(to: request.origin)
            let seconds = metres / specification.cruiseSpeed
            if found.count == limit, seconds >= found[limit - 1].seconds { continue }
            let needed = Energy.batteryNeeded(pickUpMetres: metres, tripPercent: tripPercent, specification: specification)
            guard needed <= battery[slot] else { continue }
            var position = found.count
            if found.count == limit { position -= 1 } else { found.append(DispatchCandidate(seconds: seconds, slot: slot)) }
            while position > 0, found[position - 1].seconds > seconds {
                found[position] = found[position - 1]
                position -= 1
            }
            found[position] = DispatchCandidate(seconds: seconds, slot: slot)
        }
    }
}

/// One dispatch round: the grid over the drones, the pending deliveries in priority order, and which drones are taken.
struct DispatchPlanner {
    let deliveries: [Delivery]
    let drones: [Drone]
    let grid: DroneGrid
    /// Pending deliveries with a usable origin, by priority (highest first), then age, then input order.
    let requests: [DispatchRequest]
    /// By grid slot.
    var taken: [Bool]

    init(pending: [Delivery], drones: [Drone], map: FleetMap, rules: FleetRules) {
        deliveries = pending
        self.drones = drones
        let grid = DroneGrid(drones: drones, rules: rules)
        self.grid = grid
        taken = [Bool](repeating: false, count: grid.count)
        let order = pending.indices
            .filter { pending[$0].state == .pending && pending[$0].origin.isFinite }
            .sorted { left, right in
                let a = pending[left]
                let b = pending[right]
                if a.priority != b.priority { return a.priority > b.priority }
                if a.createdAtMs != b.createdAtMs { return a.createdAtMs < b.createdAtMs }
                return left < right
            }
        requests = order.map { index in
            let delivery = pending[index]
            let trip = Energy.Trip(origin: delivery.origin, destination: delivery.destination, weightKg: delivery.weightKg, map: map)
            var tripPercent = SIMD3<Double>(repeating: .infinity)
            var fastestSpeed = 0.0
            for (ordinal, specification) in grid.specifications.enumerated() {
                guard let specification, let percent = trip.percent(for: specification, reservePercent: rules.reservePercent) else { continue }
                tripPercent[ordinal] = percent
                fastestSpeed = max(fastestSpeed, specification.cruiseSpeed)
            }
            return DispatchRequest(deliveryIndex: index, origin: delivery.origin, tripPercent: tripPercent, fastestSpeed: fastestSpeed)
        }
    }

    private func assignment(_ request: DispatchRequest, _ candidate: DispatchCandidate) -> Assignment {
        Assignment(
            deliveryID: deliveries[request.deliveryIndex].id,
            droneID: drones[grid.droneIndex[candidate.slot]].id,
            pickUpSeconds: candidate.seconds
        )
    }

    mutating func greedy() -> [Assignment] {
        var assignments: [Assignment] = []
        var found: [DispatchCandidate] = []
        for request in requests {
            grid.quickest(for: request, limit: 1, taken: taken, into: &found)
            guard let best = found.first else { continue }
            taken[best.slot] = true
            assignments.append(assignment(request, best))
        }
        return assignments
    }

    mutating func optimal(candidatesPerDelivery limit: Int) -> [Assignment] {
        var assignments: [Assignment] = []
        var found: [DispatchCandidate] = []
        var columnOfSlot = [Int](repeating: -1, count: grid.count)
        var tierStart = requests.startIndex
        while tierStart < requests.endIndex {
            let priority = deliveries[requests[tierStart].deliveryIndex].priority
            var tierEnd = tierStart
            while tierEnd < requests.endIndex, deliveries[requests[tierEnd].deliveryIndex].priority == priority { tierEnd += 1 }

            // The tier's pruned candidate graph, one row per delivery that has any candidate.
            var graph = SparseAssignment()
            var rowRequests: [DispatchRequest] = []
            var rowTruncated: [Bool] = []
            var slotOfColumn: [Int] = []
            for request in requests[tierStart..<tierEnd] {
                grid.quickest(for: request, limit: limit, taken: taken, into: &found)
                guard !found.isEmpty else { continue }
                for candidate in found {
                    if columnOfSlot[candidate.slot] < 0 {
                        columnOfSlot[candidate.slot] = slotOfColumn.count
                        slotOfColumn.append(candidate.slot)
                    }
                    graph.addEdge(column: columnOfSlot[candidate.slot], cost: candidate.seconds)
                }
                graph.finishRow()
                rowRequests.append(request)
                rowTruncated.append(found.count == limit)
            }
            graph.columnCount = slotOfColumn.count
            let columnOfRow = graph.solve()

            var chosen = [DispatchCandidate?](repeating: nil, count: rowRequests.count)
            for (row, column) in columnOfRow.enumerated() where column >= 0 {
                let slot = slotOfColumn[column]
                taken[slot] = true
                chosen[row] = DispatchCandidate(seconds: graph.cost(row: row, column: column), slot: slot)
            }
            for slot in slotOfColumn { columnOfSlot[slot] = -1 }
            // A row with fewer candidates than the limit saw every feasible free drone, so the maximum matching
            // already did its best for it; only a pruned row may still find a drone beyond its list.
            for row in rowRequests.indices where chosen[row] == nil && rowTruncated[row] {
                grid.quickest(for: rowRequests[row], limit: 1, taken: taken, into: &found)
                guard let best = found.first else { continue }
                taken[best.slot] = true
                chosen[row] = best
            }
            for (row, candidate) in chosen.enumerated() {
                if let candidate { assignments.append(assignment(rowRequests[row], candidate)) }
            }
            tierStart = tierEnd
        }
        return assignments
    }
}

/// A minimum-cost assignment on a sparse bipartite graph where rows may stay unassigned: the most rows assigned,
/// then the least total cost.
///
/// It is solved as a rectangular assignment in which every row must be assigned, by giving each row a private extra
/// column that costs more than all real edges together: taking it means "unserved", and the optimum uses as few as
/// possible. Rows are added one at a time; each runs Dijkstra over reduced costs (`cost − rowDual − columnDual`, kept
/// non-negative, zero on assigned edges) until it reaches a free column, then flips the path and updates the duals
/// of the columns it settled. Rows that take their cheapest edge at once need no search, which is most of them when
/// drones are plentiful.
struct SparseAssignment {
    var columnCount = 0
    private var rowStart = [0]
    private var edgeColumn: [Int] = []
    private var edgeCost: [Double] = []

    var rowCount: Int { rowStart.count - 1 }

    mutating func addEdge(column: Int, cost: Double) {
        edgeColumn.append(column)
        edgeCost.append(cost)
    }

    mutating func finishRow() {
        rowStart.append(edgeColumn.count)
    }

    func cost(row: Int, column: Int) -> Double {
        for edge in rowStart[row]..<rowStart[row + 1] where edgeColumn[edge] == column { return edgeCost[edge] }
        return .infinity
    }

    /// For each row its column, or -1 when it stays unassigned.
    func solve() -> [Int] {
        let rowCount = rowCount
        guard rowCount > 0 else { return [] }
        var unservedCost = 1.0
        for row in 0..<rowCount {
            unservedCost += edgeCost[rowStart[row]..<rowStart[row + 1]].max() ?? 0
        }
        // Column `columnCount + row` is row `row`'s private "unserved" column.
        let totalColumns = columnCount + rowCount
        var rowDual = [Double](repeating: 0, count: rowCount)
        var columnDual = [Double](repeating: 0, count: totalColumns)
        var columnOfRow = [Int](repeating: -1, count: rowCount)
        var rowOfColumn = [Int](repeating: -1, count: totalColumns)

        // Each row's dual starts at its cheapest edge (all reduced costs ≥ 0, the cheapest at 0), and it takes that
        // edge when the column is still free.
        for row in 0..<rowCount {
            var best = -1
            var bestCost = unservedCost
            for edge in rowStart[row]..<rowStart[row + 1] where edgeCost[edge] < bestCost {
                best = edgeColumn[edge]
                bestCost = edgeCost[edge]
            }
            if best < 0 { best = columnCount + row }
            rowDual[row] = bestCost
            if rowOfColumn[best] < 0 {
                rowOfColumn[best] = row
                columnOfRow[row] = best
            }
        }

        var distance = [Double](repeating: .infinity, count: totalColumns)
        var settled = [Bool](repeating: false, count: totalColumns)
        var predecessor = [Int](repeating: -1, count: totalColumns)
        var touched: [Int] = []
        var settledColumns: [Int] = []
        var heap = MinHeap()

        func relax(_ row: Int, from rowDistance: Double) {
            let base = rowDistance - rowDual[row]
            var edge = rowStart[row]
            let end = rowStart[row + 1]
            while edge <= end {
                let column = edge < end ? edgeColumn[edge] : columnCount + row
                let cost = edge < end ? edgeCost[edge] : unservedCost
                edge += 1
                guard !settled[column] else { continue }
                let candidate = base + cost - columnDual[column]
                if candidate < distance[column] {
                    if distance[column] == .infinity { touched.append(column) }
                    distance[column] = candidate
                    predecessor[column] = row
                    heap.push(candidate, column)
                }
            }
        }

        for start in 0..<rowCount where columnOfRow[start] < 0 {
            relax(start, from: 0)
            var target = -1
            var targetDistance = 0.0
            // The row's own unserved column is always free, so the search always ends.
            while let (columnDistance, column) = heap.pop() {
                guard !settled[column], columnDistance <= distance[column] else { continue }
                settled[column] = true
                let owner = rowOfColumn[column]
                if owner < 0 {
                    target = column
                    targetDistance = columnDistance
                    break
                }
                settledColumns.append(column)
                relax(owner, from: columnDistance)
            }
            // Shift the duals of everything settled before the target so that the path becomes tight and every
            // reduced cost stays non-negative.
            for column in settledColumns {
                let slack = targetDistance - distance[column]
                columnDual[column] -= slack
                rowDual[rowOfColumn[column]] += slack
            }
            rowDual[start] += targetDistance
            var column = target
            while true {
                let row = predecessor[column]
                let previous = columnOfRow[row]
                columnOfRow[row] = column
                rowOfColumn[column] = row
                if row == start { break }
                column = previous
            }
            for column in touched {
                distance[column] = .infinity
                settled[column] = false
            }
            touched.removeAll(keepingCapacity: true)
            settledColumns.removeAll(keepingCapacity: true)
            heap.removeAll()
        }
        return columnOfRow.map { $0 < columnCount ? $0 : -1 }
    }
}

/// A binary min-heap of (key, value) pairs in flat arrays; stale entries are skipped by the caller.
struct MinHeap {
    private var keys: [Double] = []
    private var values: [Int] = []

    mutating func push(_ key: Double, _ value: Int) {
        keys.append(key)
        values.append(value)
        var child = keys.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard keys[parent] > key else { break }
            keys[child] = keys[parent]
            values[child] = values[parent]
            child = parent
        }
        keys[child] = key
        values[child] = value
    }

    mutating func pop() -> (Double, Int)? {
        guard let topKey = keys.first else { return nil }
        let top = (topKey, values[0])
        let lastKey = keys.removeLast()
        let lastValue = values.removeLast()
        guard !keys.isEmpty else { return top }
        var parent = 0
        let count = keys.count
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count, keys[child + 1] < keys[child] { child += 1 }
            guard keys[child] < lastKey else { break }
            keys[parent] = keys[child]
            values[parent] = values[child]
            parent = child
        }
        keys[parent] = lastKey
        values[parent] = lastValue
        return top
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }
}
