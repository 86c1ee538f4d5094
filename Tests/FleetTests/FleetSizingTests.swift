import Foundation
import Testing

@testable import Fleet

@Suite("Fleet sizing and reconciliation of stuck deliveries")
struct FleetSizingTests {
    let rules = FleetRules.standard

    /// `count` pending parcels of `weightKg`.
    func pending(_ count: Int, weightKg: Double = 1) -> [Delivery] {
        (0..<count).map { Fixture.delivery($0, from: Point(x: 0, y: 0), to: Point(x: 100, y: 100), weightKg: weightKg) }
    }

    func drones(idle: [Double], inactive: [Double], charging: Int = 0) -> [Drone] {
        idle.enumerated().map { Fixture.drone("idle-\($0)", at: Point(x: 0, y: 0), battery: $1) }
            + inactive.enumerated().map { Fixture.drone("inactive-\($0)", at: Point(x: 0, y: 0), battery: $1, state: .inactive) }
            + (0..<charging).map { Fixture.drone("charging-\($0)", at: Point(x: 0, y: 0), battery: 50, state: .charging) }
    }

    @Test("a backlog beyond the ready idle drones activates inactive drones, most charged first, up to the shortfall")
    func activation() {
        // Two idle drones are ready; the one at 10 % is about to go charging and does not count.
        let fleet = drones(idle: [80, 60, 10], inactive: [40, 95, .nan, 70, 95], charging: 3)
        #expect(
            FleetSizing.plan(drones: fleet, pending: pending(5), rules: rules) == [.activate("inactive-1"), .activate("inactive-4"), .activate("inactive-3")]
        )
        #expect(FleetSizing.plan(drones: fleet, pending: pending(3), rules: rules) == [.activate("inactive-1")])
        // No more inactive drones than there are.
        #expect(FleetSizing.plan(drones: fleet, pending: pending(100), rules: rules).count == 4)
        // A backlog the ready drones cover changes nothing.
        #expect(FleetSizing.plan(drones: fleet, pending: pending(2), rules: rules).isEmpty)
        #expect(FleetSizing.plan(drones: fleet, pending: pending(1), rules: rules).isEmpty)
    }

    @Test("parcels no ready idle drone can lift wake inactive drones that can, the smallest type that can first")
    func activationByPayload() {
        // Two light drones idle (2 kg), a medium (8 kg) and two heavy (25 kg) ones inactive.
        let fleet = [
            Fixture.drone("light-1", .light, at: Point(x: 0, y: 0), battery: 90),
            Fixture.drone("light-2", .light, at: Point(x: 0, y: 0), battery: 90),
            Fixture.drone("medium-1", .medium, at: Point(x: 0, y: 0), battery: 60, state: .inactive),
            Fixture.drone("heavy-1", .heavy, at: Point(x: 0, y: 0), battery: 50, state: .inactive),
            Fixture.drone("heavy-2", .heavy, at: Point(x: 0, y: 0), battery: 80, state: .inactive),
        ]
        // Light parcels: the idle light drones are enough.
        #expect(FleetSizing.plan(drones: fleet, pending: pending(2, weightKg: 1.5), rules: rules).isEmpty)
        // A 5 kg parcel wakes the medium drone, not a heavy one; a 20 kg one the most charged heavy drone.
        #expect(FleetSizing.plan(drones: fleet, pending: pending(1, weightKg: 5), rules: rules) == [.activate("medium-1")])
        #expect(FleetSizing.plan(drones: fleet, pending: pending(1, weightKg: 20), rules: rules) == [.activate("heavy-2")])
        // Two 5 kg parcels: the medium drone, then a heavy one, since nothing smaller is left.
        #expect(FleetSizing.plan(drones: fleet, pending: pending(2, weightKg: 5), rules: rules) == [.activate("medium-1"), .activate("heavy-2")])
    }

    @Test("a delivery that waits for a fuller battery sends the nearest idle drone that lifts it to charge, and only then")
    func topUps() {
        let map = FleetMap.standard
        // Across the city: a medium drone at 40 % cannot fly it, a full one can.
        let long = Fixture.delivery(1, from: Point(x: 500, y: 500), to: Point(x: 8_000, y: 8_000), weightKg: 5)
        let near = Fixture.drone("near", .medium, at: Point(x: 600, y: 600), battery: 40)
        let far = Fixture.drone("far", .medium, at: Point(x: 5_000, y: 5_000), battery: 40)
        let light = Fixture.drone("light", .light, at: Point(x: 500, y: 500), battery: 40)
        #expect(!feasibility(of: near, for: long, map: map, rules: rules).isFeasible)
        #expect(FleetSizing.topUps(unassigned: [long], drones: [far, near, light], map: map, rules: rules) == ["near"])
        // A drone that can already fly it: nobody needs charging (the delivery only lost out this tick).
        let full = Fixture.drone("full", .medium, at: Point(x: 800, y: 800), battery: 100)
        #expect(feasibility(of: full, for: long, map: map, rules: rules).isFeasible)
        #expect(FleetSizing.topUps(unassigned: [long], drones: [near, full], map: map, rules: rules).isEmpty)
        // Two waiting deliveries never send the same drone twice; a parcel no drone lifts sends none.
        let second = Fixture.delivery(2, from: Point(x: 700, y: 700), to: Point(x: 7_500, y: 7_000), weightKg: 4)
        #expect(FleetSizing.topUps(unassigned: [long, second], drones: [near, far], map: map, rules: rules) == ["near", "far"])
        let tooHeavy = Fixture.delivery(3, from: Point(x: 500, y: 500), to: Point(x: 900, y: 900), weightKg: 30)
        #expect(FleetSizing.topUps(unassigned: [tooHeavy], drones: [near], map: map, rules: rules).isEmpty)
    }

    @Test("with no backlog, idle drones beyond the spare count retire, least charged first")
    func retirement() {
        var rules = rules
        rules.spareIdleDrones = 2
        let fleet = drones(idle: [80, 30, 90, 30, .nan], inactive: [50])
        #expect(FleetSizing.plan(drones: fleet, pending: pending(0), rules: rules) == [.retire("idle-4"), .retire("idle-1"), .retire("idle-3")])
        rules.spareIdleDrones = 5
        #expect(FleetSizing.plan(drones: fleet, pending: pending(0), rules: rules).isEmpty)
        // Any backlog keeps every idle drone.
        rules.spareIdleDrones = 0
        #expect(FleetSizing.plan(drones: fleet, pending: pending(1), rules: rules).isEmpty)
        #expect(FleetSizing.plan(drones: [], pending: pending(0), rules: rules).isEmpty)
    }

    @Test("stuck deliveries: no pick-up in time is requeued, no delivery in time after pick-up fails")
    func reconcile() throws {
        let nowMs = Fixture.startMs + 10_000_000
        var fresh = Fixture.delivery(1, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try fresh.assign(to: "d-1", nowMs: nowMs - 1_800_000)
        var stale = Fixture.delivery(2, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try stale.assign(to: "d-2", nowMs: nowMs - 1_801_000)
        var inFlight = Fixture.delivery(3, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try inFlight.assign(to: "d-3", nowMs: nowMs - 5_000_000)
        try inFlight.pickUp(nowMs: nowMs - 100_000)
        var lost = Fixture.delivery(4, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        try lost.assign(to: "d-4", nowMs: nowMs - 5_000_000)
        try lost.pickUp(nowMs: nowMs - 4_000_000)
        let waiting = Fixture.delivery(5, from: Point(x: 0, y: 0), to: Point(x: 1, y: 1))
        var done = lost
        try done.deliver(nowMs: nowMs)
        #expect(
            FleetSizing.reconcile(deliveries: [fresh, stale, inFlight, lost, waiting, done], nowMs: nowMs, rules: rules) == [
                .requeue(stale.id, reason: "no pick-up within 30 minutes"),
                .fail(lost.id, reason: "not delivered within 30 minutes of pick-up"),
            ]
        )
        #expect(FleetSizing.duration(60) == "1 minute")
        #expect(FleetSizing.duration(90) == "90 seconds")
    }
}
